import Foundation

/// Byte-level BPE (`tokenizer.ggml.model = "gpt2"`), as used by GPT-2,
/// SmolLM2, Qwen, Llama 3.
///
/// Encoding: split out special tokens → pre-tokenize into words → each word's
/// UTF-8 bytes become one token per byte (via the byte-level alphabet) →
/// repeatedly merge the adjacent pair with the lowest merge rank.
public final class BPETokenizer: Tokenizer, @unchecked Sendable {
    /// Token strings as stored in the file (byte-level alphabet for normal tokens).
    public let tokens: [String]
    /// `tokenizer.ggml.token_type` per token: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public let tokenTypes: [Int32]
    public let bosID: Int32?
    public let eosID: Int32?
    public let endOfTurnIDs: Set<Int32>
    public let addsBOS: Bool
    public var vocabularySize: Int { tokens.count }

    private let preTokenizer: PreTokenizer
    /// Merge table keyed by the pair of token ids `left << 32 | right`.
    private let merges: [UInt64: Merge]
    /// Token ids by their text, kept only when the pre-tokenizer ignores merges for whole-token words.
    private let wholeWordIDs: [String: Int32]
    /// Token id of each single byte's alphabet character (-1 when the vocabulary lacks it).
    private let byteTokens: [Int32]
    /// Special tokens by first byte, longest first, for matching in raw text.
    private let specialsByFirstByte: [[Special]]

    /// Words already encoded, keyed by their UTF-8 bytes. Text repeats words a lot.
    private var cache: [[UInt8]: [Int32]] = [:]
    private let cacheLock = NSLock()
    private static let cacheLimit = 50_000

    struct Merge {
        let rank: Int32
        let result: Int32
    }

    struct Special {
        let bytes: [UInt8]
        let id: Int32
        /// Control and unknown tokens are matched only with parseSpecial;
        /// user-defined ones always (as llama.cpp and HF tokenizers do).
        let needsParseSpecial: Bool
    }

    static let tokenTypeNormal: Int32 = 1, tokenTypeUnknown: Int32 = 2, tokenTypeControl: Int32 = 3
    static let tokenTypeUserDefined: Int32 = 4

    /// Token texts llama.cpp also treats as end of generation.
    static let endOfTurnTexts: Set<String> = [
        "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
        "<|end_of_text|>", "<EOT>", "<|return|>", "<|call|>",
    ]

    /// `extraPreTokenizers`: `tokenizer.ggml.pre` names an architecture adds (Architecture.preTokenizers).
    public convenience init(gguf: GGUFFile, extraPreTokenizers: [String: PreTokenizer] = [:]) throws {
        let tokens = try gguf.stringArray("tokenizer.ggml.tokens")
        let types = gguf.metadata["tokenizer.ggml.token_type"] != nil
            ? try gguf.int32Array("tokenizer.ggml.token_type") : nil
        let merges = try gguf.stringArray("tokenizer.ggml.merges")
        let preName = gguf.metadata["tokenizer.ggml.pre"] != nil ? try gguf.string("tokenizer.ggml.pre") : nil
        guard let pre = preName.flatMap({ extraPreTokenizers[$0] }) ?? PreTokenizer(name: preName) else {
            throw TokenizerError.unsupportedPreTokenizer(preName ?? "")
        }
        func optionalID(_ key: String) throws -> Int32? {
            guard gguf.metadata[key] != nil else { return nil }
            let id = try gguf.int(key)
            guard id >= 0, id < tokens.count else {
                throw TokenizerError.tokenIDOutOfRange(key: key, id: id, vocabularySize: tokens.count)
            }
            return Int32(id)
        }
        let addBOS = gguf.metadata["tokenizer.ggml.add_bos_token"] != nil
            ? try gguf.bool("tokenizer.ggml.add_bos_token") : pre.addsBOSByDefault
        try self.init(tokens: tokens, tokenTypes: types, merges: merges, preTokenizer: pre,
                      bosID: try optionalID("tokenizer.ggml.bos_token_id"),
                      eosID: try optionalID("tokenizer.ggml.eos_token_id"),
                      extraEndIDs: [try optionalID("tokenizer.ggml.eot_token_id"),
                                    try optionalID("tokenizer.ggml.eom_token_id")].compactMap { $0 },
                      addsBOS: addBOS)
    }

    init(tokens: [String], tokenTypes: [Int32]?, merges mergeTexts: [String], preTokenizer: PreTokenizer,
         bosID: Int32?, eosID: Int32?, extraEndIDs: [Int32], addsBOS: Bool) throws {
        let types = tokenTypes ?? [Int32](repeating: BPETokenizer.tokenTypeNormal, count: tokens.count)
        guard types.count == tokens.count else {
            throw TokenizerError.countMismatch(key: "tokenizer.ggml.token_type", count: types.count,
                                               vocabularySize: tokens.count)
        }
        self.tokens = tokens
        self.tokenTypes = types
        self.preTokenizer = preTokenizer
        self.bosID = bosID
        self.eosID = eosID
        self.addsBOS = addsBOS

        var idOf: [String: Int32] = [:]
        idOf.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where idOf[t] == nil { idOf[t] = Int32(i) }

        // "left right" → ids; merges whose parts or result are not tokens can never apply here.
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(mergeTexts.count)
        for (rank, text) in mergeTexts.enumerated() {
            guard let space = text.dropFirst().firstIndex(of: " ") else {
                throw TokenizerError.malformedMerge(index: rank, text: text)
            }
            let left = text[..<space], right = text[text.index(after: space)...]
            guard let l = idOf[String(left)], let r = idOf[String(right)],
                  let result = idOf[String(left) + String(right)] else { continue }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if table[key] == nil { table[key] = Merge(rank: Int32(rank), result: result) }
        }
        merges = table
        wholeWordIDs = preTokenizer.ignoresMerges ? idOf : [:]

        byteTokens = (0..<256).map { idOf[String(ByteLevel.byteToScalar[$0])] ?? -1 }

        var buckets = [[Special]](repeating: [], count: 256)
        var ends = Set(extraEndIDs)
        if let eosID { ends.insert(eosID) }
        for (i, type) in types.enumerated() {
            let isControl = type == BPETokenizer.tokenTypeControl || type == BPETokenizer.tokenTypeUnknown
            if isControl || type == BPETokenizer.tokenTypeUserDefined, let first = tokens[i].utf8.first {
                buckets[Int(first)].append(Special(bytes: Array(tokens[i].utf8), id: Int32(i),
                                                   needsParseSpecial: isControl))
            }
            if BPETokenizer.endOfTurnTexts.contains(tokens[i]) { ends.insert(Int32(i)) }
        }
        specialsByFirstByte = buckets.map { $0.sorted { $0.bytes.count > $1.bytes.count } }
        endOfTurnIDs = ends
    }

    // MARK: Tokenizer

    public func isSpecial(_ id: Int32) -> Bool {
        guard let type = tokenType(id) else { return false }
        return type == BPETokenizer.tokenTypeControl || type == BPETokenizer.tokenTypeUserDefined
    }

    public func bytes(_ id: Int32) -> [UInt8] {
        guard let type = tokenType(id) else { return [] }
        let text = tokens[Int(id)]
        // Control and user-defined tokens are stored as plain text, not in the byte alphabet.
        if type == BPETokenizer.tokenTypeControl || type == BPETokenizer.tokenTypeUserDefined {
            return Array(text.utf8)
        }
        return ByteLevel.decode(text)
    }

    private func tokenType(_ id: Int32) -> Int32? {
        id >= 0 && Int(id) < tokens.count ? tokenTypes[Int(id)] : nil
    }

    public func encode(_ text: String, addBOS: Bool, parseSpecial: Bool) -> [Int32] {
        var out: [Int32] = []
        if addBOS, let bosID { out.append(bosID) }
        let bytes = Array(text.utf8)
        // Cut the text at special tokens; the pieces between go through BPE.
        var fragmentStart = 0
        var i = 0
        while i < bytes.count {
            if let special = matchSpecial(bytes, at: i, parseSpecial: parseSpecial) {
                encodeFragment(bytes[fragmentStart..<i], into: &out)
                out.append(special.id)
                i += special.bytes.count
                fragmentStart = i
            } else {
                i += 1
            }
        }
        encodeFragment(bytes[fragmentStart..<bytes.count], into: &out)
        return out
    }

    /// The longest special token starting at `bytes[at]`.
    private func matchSpecial(_ bytes: [UInt8], at start: Int, parseSpecial: Bool) -> Special? {
        for special in specialsByFirstByte[Int(bytes[start])] {
            guard parseSpecial || !special.needsParseSpecial,
                  start + special.bytes.count <= bytes.count else { continue }
            if bytes[start..<start + special.bytes.count].elementsEqual(special.bytes) { return special }
        }
        return nil
    }

    /// Pre-tokenizes a piece of plain text (whole UTF-8 characters) and BPE-encodes each word.
    private func encodeFragment(_ fragment: ArraySlice<UInt8>, into out: inout [Int32]) {
        guard !fragment.isEmpty else { return }
        // Scalars plus the byte offset where each starts, so a word's bytes are a slice.
        var scalars: [Unicode.Scalar] = []
        var offsets: [Int] = []
        scalars.reserveCapacity(fragment.count)
        offsets.reserveCapacity(fragment.count + 1)
        var offset = fragment.startIndex
        for scalar in String(decoding: fragment, as: UTF8.self).unicodeScalars {
            scalars.append(scalar)
            offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        offsets.append(offset)
        for word in preTokenizer.split(scalars) {
            // Slices share the text's indices, so the offsets index `fragment` directly.
            let wordBytes = Array(fragment[offsets[word.lowerBound]..<offsets[word.upperBound]])
            out.append(contentsOf: encodeWord(wordBytes))
        }
    }

    private func encodeWord(_ word: [UInt8]) -> [Int32] {
        cacheLock.lock()
        let cached = cache[word]
        cacheLock.unlock()
        if let cached { return cached }
        let ids: [Int32]
        if !wholeWordIDs.isEmpty, let whole = wholeWordIDs[String(String.UnicodeScalarView(word.map { ByteLevel.byteToScalar[Int($0)] }))] {
            ids = [whole]  // llama.cpp's ignore_merges: a word that is a token is that token
        } else {
            ids = mergeWord(word)
        }
        cacheLock.lock()
        if cache.count >= BPETokenizer.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[word] = ids
        cacheLock.unlock()
        return ids
    }

    /// BPE proper: start from one token per byte, then merge the lowest-ranked
    /// adjacent pair (all its occurrences, left to right) until no pair has a merge.
    func mergeWord(_ word: [UInt8]) -> [Int32] {
        var symbols = word.map { byteTokens[Int($0)] }.filter { $0 >= 0 }
        while symbols.count > 1 {
            var best: Merge? = nil
            var bestPair: UInt64 = 0
            for i in 0..<symbols.count - 1 {
                let pair = UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[i + 1]))
                if let m = merges[pair], m.rank < (best?.rank ?? .max) {
                    best = m
                    bestPair = pair
                }
            }
            guard let best else { break }
            var merged: [Int32] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count,
                   UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[i + 1])) == bestPair {
                    merged.append(best.result)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        return symbols
    }
}
