/// Text ↔ token ids for one model's vocabulary.
public protocol Tokenizer: AnyObject {
    var vocabularySize: Int { get }
    var bosID: Int32? { get }
    var eosID: Int32? { get }
    /// Tokens that end generation: eos, eot/eom, and end-of-turn markers such as `<|im_end|>`.
    var endOfTurnIDs: Set<Int32> { get }
    /// Whether the model expects BOS in front of a prompt (`tokenizer.ggml.add_bos_token`).
    var addsBOS: Bool { get }
    /// `parseSpecial`: recognise control tokens such as `<|im_start|>` written in the text.
    func encode(_ text: String, addBOS: Bool, parseSpecial: Bool) -> [Int32]
    /// The token as display text; a token holding part of a UTF-8 character shows U+FFFD.
    func piece(_ id: Int32) -> String
    /// The raw bytes this token stands for (control tokens: their text).
    func bytes(_ id: Int32) -> [UInt8]
    /// Control or user-defined tokens.
    func isSpecial(_ id: Int32) -> Bool
}

extension Tokenizer {
    /// The token as text: its bytes decoded, a partial UTF-8 character shown as U+FFFD.
    public func piece(_ id: Int32) -> String {
        String(decoding: bytes(id), as: UTF8.self)
    }

    /// Encodes with the model's own BOS setting, recognising special tokens.
    public func encode(_ text: String) -> [Int32] {
        encode(text, addBOS: addsBOS, parseSpecial: true)
    }

    /// Joins the tokens' bytes and decodes once, so characters split across tokens come out whole.
    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: self.bytes(id)) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    case unsupportedModel(String)
    case unsupportedPreTokenizer(String)
    case countMismatch(key: String, count: Int, vocabularySize: Int)
    case tokenIDOutOfRange(key: String, id: Int, vocabularySize: Int)
    case malformedMerge(index: Int, text: String)

    public var description: String {
        switch self {
        case let .unsupportedModel(model):
            return "tokenizer model '\(printable(model))' is not supported (supported: 'gpt2' byte-level BPE, 'llama' SentencePiece)"
        case let .unsupportedPreTokenizer(pre):
            // The list of names is long: the line names its size and the common ones.
            return "tokenizer.ggml.pre '\(printable(pre))' is not supported (\(PreTokenizer.supportedNames.count) names are, "
                + "among them default, gpt2, llama-bpe, qwen2, smollm)"
        case let .countMismatch(key, count, size):
            return "\(key) has \(count) entries but the vocabulary has \(size) tokens"
        case let .tokenIDOutOfRange(key, id, size):
            return "\(key) is \(id), outside the vocabulary of \(size) tokens"
        case let .malformedMerge(index, text):
            return "tokenizer.ggml.merges[\(index)] is '\(printable(text))': expected two tokens separated by a space"
        }
    }
}

public enum TokenizerFactory {
    /// Builds the tokenizer `tokenizer.ggml.model` names. Throws `TokenizerError`
    /// for unsupported models, `GGUFError` for missing or mistyped keys.
    /// `preTokenizers`: extra `tokenizer.ggml.pre` names an architecture declares.
    public static func make(from gguf: GGUFFile, preTokenizers: [String: PreTokenizer] = [:]) throws -> Tokenizer {
        let model = try gguf.string("tokenizer.ggml.model")
        switch model {
        case "gpt2":
            return try BPETokenizer(gguf: gguf, extraPreTokenizers: preTokenizers)
        case "llama":
            return try SentencePieceTokenizer(gguf: gguf)
        default:
            throw TokenizerError.unsupportedModel(model)
        }
    }
}

/// Streams UTF-8: feed token bytes, get back only complete characters
/// (never half a character); `flush` at the end returns what is left, with
/// U+FFFD for an unfinished character.
public struct UTF8StreamDecoder: Sendable {
    /// Bytes of a character still missing its continuation bytes (at most 3).
    private var pending: [UInt8] = []

    public init() {}

    public mutating func append(_ bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        let keep = UTF8StreamDecoder.incompleteSuffixLength(pending)
        let ready = pending[..<(pending.count - keep)]
        let text = String(decoding: ready, as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// How many trailing bytes form the start of a character whose remaining
    /// bytes have not arrived yet (0 when the buffer ends on a boundary).
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        // Walk back over up to 3 continuation bytes (10xxxxxx) to the lead byte.
        var i = bytes.count - 1
        var continuations = 0
        while i >= 0, bytes[i] & 0xC0 == 0x80, continuations < 3 {
            i -= 1
            continuations += 1
        }
        guard i >= 0 else { return 0 }
        let lead = bytes[i]
        let needed: Int
        switch lead {
        case 0xC2...0xDF: needed = 2
        case 0xE0...0xEF: needed = 3
        case 0xF0...0xF4: needed = 4
        default: return 0  // ASCII or an invalid byte: nothing to wait for
        }
        let have = continuations + 1
        return have < needed ? have : 0
    }
}
