import Foundation

// The OpenAI HTTP API's shapes that `lmlab serve` speaks (and `load api:` reads).
// Field names are the wire names, snake_case, so Codable needs no key mapping.
// Only the fields the lab uses are declared; unknown fields in a request are ignored,
// as OpenAI-compatible servers do.

/// `stop` is a string or a list of up to 4 strings.
struct StopStrings: Codable, Equatable {
    var values: [String]
    init(_ values: [String]) { self.values = values }
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { values = [] }
        else if let one = try? c.decode(String.self) { values = [one] }
        else { values = try c.decode([String].self) }
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }
}

/// A completion's `prompt`: a string, or a list with exactly one string (the lab serves one choice).
struct PromptText: Codable, Equatable {
    var text: String
    init(_ text: String) { self.text = text }
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { text = one; return }
        let list = try c.decode([String].self)
        guard list.count == 1 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "prompt must be one string (a list of \(list.count) prompts is not supported)")
        }
        text = list[0]
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}

struct StreamOptions: Codable, Equatable {
    var include_usage: Bool?
}

/// POST /v1/completions
struct CompletionRequest: Codable {
    var model: String
    var prompt: PromptText
    var max_tokens: Int?
    var temperature: Double?
    var top_p: Double?
    var seed: Int?
    var stop: StopStrings?
    var stream: Bool?
    var stream_options: StreamOptions?
    /// How many most likely tokens to list per position (0…20); nil: no logprobs.
    var logprobs: Int?
    var n: Int?
    var echo: Bool?
}

/// One message in a chat request; `content` may be a string or a list of text parts.
struct ChatMessageBody: Codable {
    var role: String
    var content: String
    struct Part: Codable { var type: String; var text: String? }
    init(role: String, content: String) { self.role = role; self.content = content }
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        if let text = try? c.decode(String.self, forKey: .content) { content = text; return }
        if (try? c.decodeNil(forKey: .content)) == true { content = ""; return }
        let parts = try c.decode([Part].self, forKey: .content)
        guard parts.allSatisfy({ $0.type == "text" }) else {
            throw DecodingError.dataCorruptedError(forKey: .content, in: c, debugDescription: "only text content parts are supported")
        }
        content = parts.compactMap(\.text).joined()
    }
}

/// POST /v1/chat/completions
struct ChatRequest: Codable {
    var model: String
    var messages: [ChatMessageBody]
    var max_tokens: Int?
    var max_completion_tokens: Int?
    var temperature: Double?
    var top_p: Double?
    var seed: Int?
    var stop: StopStrings?
    var stream: Bool?
    var stream_options: StreamOptions?
    var logprobs: Bool?
    var top_logprobs: Int?
    var n: Int?
}

struct Usage: Codable, Equatable {
    var prompt_tokens: Int
    var completion_tokens: Int
    var total_tokens: Int
}

/// A token with its log-probability, as chat's `logprobs.content` lists it.
struct TokenLogprob: Codable, Equatable {
    var token: String
    var logprob: Double
    var bytes: [UInt8]?
}

struct ChatTokenLogprob: Codable, Equatable {
    var token: String
    var logprob: Double
    var bytes: [UInt8]?
    var top_logprobs: [TokenLogprob]
}

struct ChatLogprobs: Codable, Equatable {
    var content: [ChatTokenLogprob]?
}

/// Legacy completions' logprobs: parallel lists.
struct CompletionLogprobs: Codable, Equatable {
    var tokens: [String]
    var token_logprobs: [Double]
    var top_logprobs: [[String: Double]]
    var text_offset: [Int]
}

struct ChatResponseMessage: Codable {
    var role: String
    var content: String?
}

/// The envelope every completion answer shares — a whole chat answer, one streamed chat
/// chunk, a legacy completion — differing only in its choices and its `object` name.
struct CompletionEnvelope<Choice: EnvelopeChoice>: Codable {
    var id: String
    var object = Choice.object
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?
}

protocol EnvelopeChoice: Codable {
    /// The envelope's `object` field for this kind of choice.
    static var object: String { get }
}

typealias ChatResponse = CompletionEnvelope<ChatChoice>
typealias ChatChunk = CompletionEnvelope<ChatChunkChoice>
typealias CompletionResponse = CompletionEnvelope<CompletionChoice>

struct ChatChoice: EnvelopeChoice {
    static let object = "chat.completion"
    var index: Int
    var message: ChatResponseMessage
    var logprobs: ChatLogprobs?
    var finish_reason: String?
}

struct ChatDelta: Codable {
    var role: String?
    var content: String?
}

struct ChatChunkChoice: EnvelopeChoice {
    static let object = "chat.completion.chunk"
    var index: Int
    var delta: ChatDelta
    var logprobs: ChatLogprobs?
    var finish_reason: String?
}

struct CompletionChoice: EnvelopeChoice {
    static let object = "text_completion"
    var text: String
    var index: Int
    var logprobs: CompletionLogprobs?
    var finish_reason: String?
}

struct ModelEntry: Codable {
    var id: String
    var object = "model"
    var created: Int
    var owned_by: String
}

struct ModelList: Codable {
    var object = "list"
    var data: [ModelEntry]
}

/// llama-server's POST /tokenize: {"content": "...", "add_special": false, "with_pieces": false}.
struct TokenizeRequest: Codable {
    var content: String
    var add_special: Bool?
    var with_pieces: Bool?
    /// Which model's tokenizer (an lmlab addition; default: the first served model).
    var model: String?
}

/// POST /detokenize: {"tokens": [1, 2, 3]} → {"content": "..."}.
struct DetokenizeRequest: Codable {
    var tokens: [Int]
    var model: String?
}

/// OpenAI's error body: {"error": {"message", "type", "param", "code"}}.
struct ErrorBody: Codable {
    struct Detail: Codable {
        var message: String
        var type: String
        var param: String?
        var code: String?
    }
    var error: Detail
}
