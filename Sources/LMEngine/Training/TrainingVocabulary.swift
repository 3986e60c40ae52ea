import Foundation

/// A vocabulary the trainer builds and the exported GGUF carries, in the form the
/// engine's byte-level BPE tokenizer reads (`tokenizer.ggml.model = "gpt2"`):
/// token strings in GPT-2's byte alphabet, token types, and ranked merges.
/// Token 0 is `<|endoftext|>`, used both to start (BOS) and to end (EOS) a text.
public struct TrainingVocabulary: Codable, Equatable, Sendable {
    public var tokens: [String]
    public var tokenTypes: [Int32]
    /// "left right" in rank order (empty for a character-level vocabulary).
    public var merges: [String]
    public var endOfText: Int32 { 0 }
    public static let endOfTextText = "<|endoftext|>"

    public var count: Int { tokens.count }

    /// One token per distinct character of `characters` (UTF-8 bytes, so ASCII
    /// characters are single tokens) and no merges: a character-level tokenizer.
    public static func characters(_ characters: String) -> TrainingVocabulary {
        var seen = Set<UInt8>()
        var tokens = [endOfTextText]
        for byte in characters.utf8 where seen.insert(byte).inserted {
            tokens.append(String(Character(ByteLevel.byteToScalar[Int(byte)])))
        }
        return TrainingVocabulary(tokens: tokens, tokenTypes: [3] + [Int32](repeating: 1, count: tokens.count - 1), merges: [])
    }

    /// The engine's tokenizer for this vocabulary (adds BOS in front of a prompt).
    public func makeTokenizer() throws -> BPETokenizer {
        try BPETokenizer(tokens: tokens, tokenTypes: tokenTypes, merges: merges, preTokenizer: .gpt2,
                         bosID: endOfText, eosID: endOfText, extraEndIDs: [], addsBOS: true)
    }

    /// The tokenizer keys of a GGUF file.
    public func metadata() -> [(String, GGUFValue)] {
        [("tokenizer.ggml.model", .string("gpt2")),
         ("tokenizer.ggml.pre", .string("gpt2")),
         ("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens))),
         ("tokenizer.ggml.token_type", .array(GGUFArray(int32s: tokenTypes))),
         ("tokenizer.ggml.merges", .array(GGUFArray(strings: merges))),
         ("tokenizer.ggml.bos_token_id", .uint32(UInt32(endOfText))),
         ("tokenizer.ggml.eos_token_id", .uint32(UInt32(endOfText))),
         ("tokenizer.ggml.add_bos_token", .bool(true))]
    }

    /// Reads the tokenizer keys back from a GGUF file written by `metadata()`.
    public init(gguf: GGUFFile) throws {
        tokens = try gguf.stringArray("tokenizer.ggml.tokens")
        tokenTypes = try gguf.array("tokenizer.ggml.token_type").int32s() ?? []
        merges = try gguf.stringArray("tokenizer.ggml.merges")
    }

    public init(tokens: [String], tokenTypes: [Int32], merges: [String]) {
        self.tokens = tokens; self.tokenTypes = tokenTypes; self.merges = merges
    }
}

/// Learns a byte-level BPE vocabulary from text, the way GPT-2's was made: split the
/// text into words with the GPT-2 pre-tokenizer, start from the 256 byte tokens, and
/// repeatedly merge the most frequent adjacent pair (ties: the smaller token ids
/// first, so the result never depends on hashing order) until the vocabulary has
/// `size` tokens. `<|endoftext|>` in the text separates documents and is not merged.
public enum BPETrainer {
    public static func train(text: String, size: Int, progress: (Int, Int) -> Void = { _, _ in },
                             shouldStop: () -> Bool = { false }) throws -> TrainingVocabulary {
        let base = 1 + 256
        guard size >= base else { throw TrainingError.badRecipe("a byte-level vocabulary needs at least \(base) tokens, not \(size)") }
        var tokens = [TrainingVocabulary.endOfTextText] + (0..<256).map { String(Character(ByteLevel.byteToScalar[$0])) }
        var merges: [String] = []

        // Distinct words with their counts, as sequences of token ids (byte b is token 1 + b).
        var counts: [[UInt8]: Int] = [:]
        for document in text.components(separatedBy: TrainingVocabulary.endOfTextText) {
            let scalars = Array(document.unicodeScalars)
            for range in PreTokenizer.gpt2.split(scalars) {
                var bytes: [UInt8] = []
                for s in scalars[range] { bytes.append(contentsOf: Array(String(s).utf8)) }
                counts[bytes, default: 0] += 1
            }
        }
        var words: [[Int32]] = []
        var frequency: [Int] = []
        for (bytes, n) in counts.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            words.append(bytes.map { Int32($0) + 1 })
            frequency.append(n)
        }

        while tokens.count < size {
            if shouldStop() { throw TrainingError.interrupted }
            var pairs: [UInt64: Int] = [:]
            for (w, word) in words.enumerated() where word.count > 1 {
                for i in 0..<(word.count - 1) {
                    pairs[UInt64(UInt32(word[i])) << 32 | UInt64(UInt32(word[i + 1])), default: 0] += frequency[w]
                }
            }
            guard let best = pairs.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }),
                  best.value >= 2 else { break }   // nothing repeats: more merges would only memorize
            let left = Int32(best.key >> 32), right = Int32(truncatingIfNeeded: best.key & 0xFFFF_FFFF)
            let merged = Int32(tokens.count)
            tokens.append(tokens[Int(left)] + tokens[Int(right)])
            merges.append(tokens[Int(left)] + " " + tokens[Int(right)])
            for w in words.indices where words[w].count > 1 {
                var out: [Int32] = []
                out.reserveCapacity(words[w].count)
                var i = 0
                let word = words[w]
                while i < word.count {
                    if i + 1 < word.count, word[i] == left, word[i + 1] == right { out.append(merged); i += 2 }
                    else { out.append(word[i]); i += 1 }
                }
                words[w] = out
            }
            progress(tokens.count, size)
        }
        return TrainingVocabulary(tokens: tokens, tokenTypes: [3] + [Int32](repeating: 1, count: tokens.count - 1), merges: merges)
    }
}

/// Errors from recipes, data and checkpoints: one line each.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case badRecipe(String)
    case badData(String)
    case badCheckpoint(String)
    case interrupted

    public var description: String {
        switch self {
        case .badRecipe(let m): return "bad recipe: \(m)"
        case .badData(let m): return "bad training data: \(m)"
        case .badCheckpoint(let m): return "bad checkpoint: \(m)"
        case .interrupted: return "interrupted"
        }
    }
}
