import Foundation

/// SentencePiece-style tokenizer (`tokenizer.ggml.model = "llama"`), as used
/// by Llama 1/2, Mistral, Gemma. Encodes the way llama.cpp's SPM tokenizer does.
///
/// Encoding: cut out special tokens → in each stretch of plain text, spaces
/// become `▁` (U+2581) → one symbol per UTF-8 character → repeatedly merge the
/// adjacent pair whose joined text is the best-scoring token → symbols that are
/// not tokens fall back to `<0xNN>` byte tokens. There is no pre-tokenizer:
/// a whole stretch of text (up to the next special token) is merged as one.
public final class SentencePieceTokenizer: Tokenizer, Sendable {
    /// Token texts as stored in the file (`▁` for space).
    public let tokens: [String]
    /// Merge priority: of the pairs that make a token, the one whose token scores highest merges first.
    public let scores: [Float]
    /// `tokenizer.ggml.token_type` per token: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public let tokenTypes: [Int32]
    public let bosID: Int32?
    public let eosID: Int32?
    public let unknownID: Int32?
    public let endOfTurnIDs: Set<Int32>
    public let addsBOS: Bool
    /// `tokenizer.ggml.add_eos_token`: EOS after the text whenever BOS is asked for
    /// (llama.cpp ties both to its one `add_special` flag).
    public let addsEOS: Bool
    /// `tokenizer.ggml.add_space_prefix`: a `▁` in front of text that starts the
    /// prompt or follows a special token (Llama 2 yes, Gemma no).
    public let addsSpacePrefix: Bool
    public var vocabularySize: Int { tokens.count }

    private let index: VocabularyIndex
    private let splitter: SpecialTokenSplitter
    /// Token for each byte value, used for characters no token covers (-1: none).
    private let byteTokens: [Int32]

    static let typeNormal: Int32 = 1, typeUnknown: Int32 = 2, typeControl: Int32 = 3
    static let typeUserDefined: Int32 = 4, typeUnused: Int32 = 5, typeByte: Int32 = 6

    /// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's stand-in for a space.
    static let spaceMark: [UInt8] = [0xE2, 0x96, 0x81]

    public convenience init(gguf: GGUFFile) throws {
        let tokens = try gguf.stringArray("tokenizer.ggml.tokens")
        func has(_ key: String) -> Bool { gguf.metadata[key] != nil }
        func optionalID(_ key: String) throws -> Int32? {
            guard has(key) else { return nil }
            let id = try gguf.int(key)
            guard id >= 0, id < tokens.count else {
                throw TokenizerError.tokenIDOutOfRange(key: key, id: id, vocabularySize: tokens.count)
            }
            return Int32(id)
        }
        // Absent keys take llama.cpp's defaults for SentencePiece vocabularies (those of Llama 2).
        try self.init(
            tokens: tokens,
            scores: has("tokenizer.ggml.scores") ? try gguf.floatArray("tokenizer.ggml.scores") : nil,
            tokenTypes: has("tokenizer.ggml.token_type") ? try gguf.int32Array("tokenizer.ggml.token_type") : nil,
            bosID: try optionalID("tokenizer.ggml.bos_token_id"),
            eosID: try optionalID("tokenizer.ggml.eos_token_id"),
            unknownID: try optionalID("tokenizer.ggml.unknown_token_id"),
            extraEndIDs: [try optionalID("tokenizer.ggml.eot_token_id"),
                          try optionalID("tokenizer.ggml.eom_token_id")].compactMap { $0 },
            addsBOS: has("tokenizer.ggml.add_bos_token") ? try gguf.bool("tokenizer.ggml.add_bos_token") : true,
            addsEOS: has("tokenizer.ggml.add_eos_token") ? try gguf.bool("tokenizer.ggml.add_eos_token") : false,
            addsSpacePrefix: has("tokenizer.ggml.add_space_prefix")
                ? try gguf.bool("tokenizer.ggml.add_space_prefix") : true)
    }

    public init(tokens: [String], scores: [Float]?, tokenTypes: [Int32]?,
                bosID: Int32?, eosID: Int32?, unknownID: Int32?, extraEndIDs: [Int32] = [],
                addsBOS: Bool, addsEOS: Bool = false, addsSpacePrefix: Bool) throws {
        let scores = scores ?? [Float](repeating: 0, count: tokens.count)
        let types = tokenTypes ?? [Int32](repeating: SentencePieceTokenizer.typeNormal, count: tokens.count)
        guard scores.count == tokens.count else {
            throw TokenizerError.countMismatch(key: "tokenizer.ggml.scores", count: scores.count,
                                               vocabularySize: tokens.count)
        }
        guard types.count == tokens.count else {
            throw TokenizerError.countMismatch(key: "tokenizer.ggml.token_type", count: types.count,
                                               vocabularySize: tokens.count)
        }
        self.tokens = tokens
        self.scores = scores
        self.tokenTypes = types
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.addsBOS = addsBOS
        self.addsEOS = addsEOS
        self.addsSpacePrefix = addsSpacePrefix

        let index = VocabularyIndex(tokens: tokens)
        self.index = index

        // `<0x41>` style tokens, else the byte itself as a one-character token (llama.cpp's order).
        byteTokens = (0..<256).map { b -> Int32 in
            if let id = index.id(of: String(format: "<0x%02X>", b)) { return id }
            return index.id(of: [UInt8(b)]) ?? -1
        }

        var specials: [SpecialTokenSplitter.Special] = []
        var ends = Set(extraEndIDs)
        if let eosID { ends.insert(eosID) }
        for (i, type) in types.enumerated() {
            let isControl = type == SentencePieceTokenizer.typeControl || type == SentencePieceTokenizer.typeUnknown
            if isControl || type == SentencePieceTokenizer.typeUserDefined {
                specials.append(.init(bytes: Array(tokens[i].utf8), id: Int32(i), needsParseSpecial: isControl))
                // Only special tokens can be end markers; looking only here keeps the scan short.
                if BPETokenizer.endOfTurnTexts.contains(tokens[i]) { ends.insert(Int32(i)) }
            }
        }
        splitter = SpecialTokenSplitter(specials: specials)
        endOfTurnIDs = ends
    }

    // MARK: Tokenizer

    public func isSpecial(_ id: Int32) -> Bool {
        guard let type = tokenType(id) else { return false }
        return type == SentencePieceTokenizer.typeControl || type == SentencePieceTokenizer.typeUserDefined
    }

    public func bytes(_ id: Int32) -> [UInt8] {
        guard let type = tokenType(id) else { return [] }
        let text = Array(tokens[Int(id)].utf8)
        switch type {
        case SentencePieceTokenizer.typeByte:
            return SentencePieceTokenizer.byteValue(text).map { [$0] } ?? text
        case SentencePieceTokenizer.typeControl, SentencePieceTokenizer.typeUnknown,
             SentencePieceTokenizer.typeUserDefined:
            // Stored as written; a user-defined "  " really is two spaces.
            return text
        default:
            return SentencePieceTokenizer.unescapeSpaces(text)
        }
    }

    private func tokenType(_ id: Int32) -> Int32? {
        id >= 0 && Int(id) < tokens.count ? tokenTypes[Int(id)] : nil
    }

    public func encode(_ text: String, addBOS: Bool, parseSpecial: Bool) -> [Int32] {
        var out: [Int32] = []
        if addBOS, let bosID { out.append(bosID) }
        Array(text.utf8).withUnsafeBufferPointer { bytes in
            // Text at the very start counts as following a special token, for the space prefix.
            var afterSpecial = true
            for piece in splitter.split(bytes, parseSpecial: parseSpecial) {
                switch piece {
                case let .token(id):
                    out.append(id)
                    afterSpecial = true
                case let .text(range):
                    encodePlain(UnsafeBufferPointer(rebasing: bytes[range]),
                                spacePrefix: addsSpacePrefix && afterSpecial, into: &out)
                    afterSpecial = false
                }
            }
        }
        if addBOS, addsEOS, let eosID { out.append(eosID) }
        return out
    }

    /// One stretch of plain text: escape spaces, then merge by score.
    private func encodePlain(_ raw: UnsafeBufferPointer<UInt8>, spacePrefix: Bool, into out: inout [Int32]) {
        var text: [UInt8] = []
        text.reserveCapacity(raw.count + raw.count / 2 + 3)
        if spacePrefix { text.append(contentsOf: SentencePieceTokenizer.spaceMark) }
        for b in raw {
            if b == 0x20 { text.append(contentsOf: SentencePieceTokenizer.spaceMark) } else { text.append(b) }
        }
        text.withUnsafeBufferPointer { buffer in
            var merger = SymbolMerger(text: buffer, index: index, scores: scores)
            merger.merge()
            merger.emit(byteTokens: byteTokens, unknownID: unknownID, into: &out)
        }
    }

    // MARK: Piece text

    /// `▁` back to a space.
    static func unescapeSpaces(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if i + 2 < text.count, text[i] == 0xE2, text[i + 1] == 0x96, text[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    /// The byte a `<0xNN>` token stands for.
    static func byteValue(_ text: [UInt8]) -> UInt8? {
        guard text.count == 6, text[0] == UInt8(ascii: "<"), text[1] == UInt8(ascii: "0"),
              text[2] == UInt8(ascii: "x"), text[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: text[3..<5], as: UTF8.self), radix: 16)
    }
}

/// The merge loop for one stretch of text, as llama.cpp's `llm_tokenizer_spm_session`.
///
/// Symbols form a linked list over the text; a merge grows the left symbol
/// over its right neighbour. Candidate pairs wait in a priority queue by the
/// score of the token they would make; a pair whose symbols changed since it
/// was queued is stale and skipped when it comes up.
private struct SymbolMerger {
    struct Symbol {
        var start: Int32
        var length: Int32  // 0 once merged into its left neighbour
        var prev: Int32
        var next: Int32
    }

    let text: UnsafeBufferPointer<UInt8>
    let index: VocabularyIndex
    let scores: [Float]
    var symbols: [Symbol] = []
    var queue = BigramQueue()

    init(text: UnsafeBufferPointer<UInt8>, index: VocabularyIndex, scores: [Float]) {
        self.text = text
        self.index = index
        self.scores = scores
        // One symbol per UTF-8 character (a truncated one at the end keeps what is there).
        var offset = 0
        while offset < text.count {
            let length = min(SymbolMerger.utf8Length(lead: text[offset]), text.count - offset)
            let n = Int32(symbols.count)
            symbols.append(Symbol(start: Int32(offset), length: Int32(length), prev: n - 1,
                                  next: offset + length == text.count ? -1 : n + 1))
            offset += length
        }
    }

    /// Bytes in a character, from its first byte (a stray continuation byte counts as one).
    static func utf8Length(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    mutating func merge() {
        for i in symbols.indices.dropFirst() { tryAddPair(Int32(i - 1), Int32(i)) }
        while let pair = queue.pop() {
            let left = symbols[Int(pair.left)], right = symbols[Int(pair.right)]
            guard left.length > 0, right.length > 0, left.length + right.length == pair.length else { continue }
            symbols[Int(pair.left)].length += right.length
            symbols[Int(pair.right)].length = 0
            symbols[Int(pair.left)].next = right.next
            if right.next >= 0 { symbols[Int(right.next)].prev = pair.left }
            tryAddPair(left.prev, pair.left)
            tryAddPair(pair.left, right.next)
        }
    }

    /// Queues the pair if its joined text is a token.
    mutating func tryAddPair(_ left: Int32, _ right: Int32) {
        guard left >= 0, right >= 0 else { return }
        let start = Int(symbols[Int(left)].start)
        let length = Int(symbols[Int(left)].length + symbols[Int(right)].length)
        guard let id = index.id(of: UnsafeBufferPointer(rebasing: text[start..<start + length])) else { return }
        queue.push(Bigram(left: left, right: right, score: scores[Int(id)], length: Int32(length)))
    }

    /// The surviving symbols as tokens. Every merged symbol is a token (only
    /// pairs that make one are queued), so what is left without a token is a
    /// single character the vocabulary lacks: it goes out as byte tokens.
    /// (llama.cpp's `resegment` also consults a reverse-merge table, but by the
    /// same argument that lookup can never succeed there.)
    func emit(byteTokens: [Int32], unknownID: Int32?, into out: inout [Int32]) {
        var i: Int32 = symbols.isEmpty ? -1 : 0
        while i >= 0 {
            let symbol = symbols[Int(i)]
            let bytes = UnsafeBufferPointer(rebasing: text[Int(symbol.start)..<Int(symbol.start + symbol.length)])
            if let id = index.id(of: bytes) {
                out.append(id)
            } else {
                for b in bytes {
                    let id = byteTokens[Int(b)]
                    // A vocabulary without byte tokens: unknown is the best there is.
                    if id >= 0 { out.append(id) } else if let unknownID { out.append(unknownID) }
                }
            }
            i = symbol.next
        }
    }
}

struct Bigram {
    let left: Int32
    let right: Int32
    let score: Float
    let length: Int32

    /// Higher score first; on a tie the pair further left (llama.cpp's order).
    func comesBefore(_ other: Bigram) -> Bool {
        score != other.score ? score > other.score : left < other.left
    }
}

/// A binary max-heap of candidate pairs.
struct BigramQueue {
    private var heap: [Bigram] = []

    mutating func push(_ item: Bigram) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].comesBefore(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Bigram? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < heap.count, heap[left].comesBefore(heap[best]) { best = left }
                if right < heap.count, heap[right].comesBefore(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
