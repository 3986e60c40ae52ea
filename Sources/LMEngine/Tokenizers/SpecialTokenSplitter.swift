/// Cuts raw text at special tokens (control, unknown and user-defined ones)
/// before the ordinary tokenizer sees it, in llama.cpp's order.
///
/// llama.cpp takes the special tokens longest first and, for each one, cuts
/// every occurrence out of the text still left over, left to right. That is
/// not the same as a longest match scanned from the left: with specials "abc"
/// and "cdef", "abcdef" becomes "ab" + cdef. Doing it literally costs one
/// search of the text per special token (6,400 in Gemma), so instead a trie
/// finds every occurrence of every special in one pass, and the occurrences
/// are then claimed in llama.cpp's order.
struct SpecialTokenSplitter: Sendable {
    struct Special: Sendable {
        let bytes: [UInt8]
        let id: Int32
        /// Control and unknown tokens are cut out only with parseSpecial;
        /// user-defined ones always (as llama.cpp and HF tokenizers do).
        let needsParseSpecial: Bool
    }

    /// A stretch of plain text (byte offsets into the input) or a special token.
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// In llama.cpp's order: longest first, then (where llama.cpp leaves it open) by id.
    private let specials: [Special]
    /// Trie over the specials' bytes. Node 0 is the root; its edges are an
    /// array by byte, deeper edges a dictionary keyed by `node << 8 | byte`.
    private let rootEdges: [Int32]
    private let edges: [UInt64: Int32]
    /// For each node, the special whose bytes end there (-1: none).
    private let specialAtNode: [Int32]

    init(specials: [Special]) {
        let specials = specials.sorted {
            $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id
        }
        self.specials = specials

        var rootEdges = [Int32](repeating: -1, count: 256)
        var edges: [UInt64: Int32] = [:]
        var specialAtNode: [Int32] = [-1]
        for (index, special) in specials.enumerated() where !special.bytes.isEmpty {
            var node: Int32 = 0
            for byte in special.bytes {
                let existing = node == 0 ? rootEdges[Int(byte)] : edges[UInt64(node) << 8 | UInt64(byte)] ?? -1
                if existing >= 0 {
                    node = existing
                    continue
                }
                let child = Int32(specialAtNode.count)
                specialAtNode.append(-1)
                if node == 0 { rootEdges[Int(byte)] = child } else { edges[UInt64(node) << 8 | UInt64(byte)] = child }
                node = child
            }
            // Two specials with the same text: the first in order is the one llama.cpp cuts out.
            if specialAtNode[Int(node)] < 0 { specialAtNode[Int(node)] = Int32(index) }
        }
        self.rootEdges = rootEdges
        self.edges = edges
        self.specialAtNode = specialAtNode
    }

    /// The text as plain stretches and special tokens, in order. Empty stretches are left out.
    func split(_ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Piece] {
        let n = text.count
        // Every occurrence of every special that may be cut out, as start offsets
        // per special; scanning left to right keeps each list in order.
        var found: [Int32: [Int]] = [:]
        for start in 0..<n {
            var node = rootEdges[Int(text[start])]
            var i = start + 1
            while node >= 0 {
                let index = specialAtNode[Int(node)]
                if index >= 0, parseSpecial || !specials[Int(index)].needsParseSpecial {
                    found[index, default: []].append(start)
                }
                guard i < n else { break }
                node = edges[UInt64(node) << 8 | UInt64(text[i])] ?? -1
                i += 1
            }
        }
        guard !found.isEmpty else { return n > 0 ? [.text(0..<n)] : [] }

        // Claim occurrences special by special, each one left to right; an
        // occurrence touching text already claimed is no longer there to find.
        var claimed = [Bool](repeating: false, count: n)
        var tokenAt = [Int32](repeating: -1, count: n)  // index of the special cut out starting at a byte
        for index in found.keys.sorted() {
            let length = specials[Int(index)].bytes.count
            for start in found[index]! where !claimed[start..<start + length].contains(true) {
                for i in start..<start + length { claimed[i] = true }
                tokenAt[start] = index
            }
        }

        var pieces: [Piece] = []
        var i = 0
        var textStart = 0
        while i < n {
            let index = tokenAt[i]
            if index < 0 {
                i += 1
                continue
            }
            if textStart < i { pieces.append(.text(textStart..<i)) }
            pieces.append(.token(specials[Int(index)].id))
            i += specials[Int(index)].bytes.count
            textStart = i
        }
        if textStart < n { pieces.append(.text(textStart..<n)) }
        return pieces
    }
}
