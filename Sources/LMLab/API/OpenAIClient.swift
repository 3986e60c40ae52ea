import AsyncHTTPClient
import Foundation
import NIOCore

/// The lab as a client of an OpenAI-compatible server: lists its models and
/// streams completions, timing what it measures (round trip, first token, rate).
///
/// Commands are synchronous, so every call here blocks its caller (`Blocking.run`)
/// while the request runs on AsyncHTTPClient's event loop; Ctrl-C cancels it.
public final class OpenAIClient {
    public let endpoint: APIEndpoint
    /// Seconds to wait to connect, and at most between two pieces of an answer.
    public let timeout: Double
    /// Read from the environment variable at load; never printed, logged or stored.
    private let key: String?
    private let http: HTTPClient

    public init(endpoint: APIEndpoint, key: String?, timeout: Double) {
        self.endpoint = endpoint; self.key = key; self.timeout = timeout
        let t = TimeAmount.milliseconds(Int64(timeout * 1000))
        var configuration = HTTPClient.Configuration(timeout: .init(connect: t, read: t))
        // A refused connection is an answer: say so at once instead of retrying until the timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit { try? http.syncShutdown() }

    /// GET /v1/models: the ids the server offers, and the seconds the round trip took.
    public func models(shouldStop: @escaping () -> Bool = { false }) throws -> (ids: [String], seconds: Double) {
        try Blocking.run(shouldStop: shouldStop) { [self] in
            let start = Date()
            let body = try await send(HTTPClientRequest(url: endpoint.route("models")))
            let seconds = Date().timeIntervalSince(start)
            guard let list = try? JSONDecoder().decode(LenientModelList.self, from: body) else {
                throw APIFailure(.badResponse, "\(endpoint.baseURL)/models did not answer with a model list (not OpenAI-compatible JSON)")
            }
            return (list.data.map(\.id), seconds)
        }
    }

    /// What one streamed completion asks for.
    public struct CompletionAsk {
        public var prompt: String
        public var maxTokens: Int
        public var temperature: Double
        public var seed: Int?
        public var stop: [String] = []
        /// How many alternatives per token to ask for (0…20); nil asks for no logprobs.
        public var logprobs: Int?
        public init(prompt: String, maxTokens: Int, temperature: Double, seed: Int? = nil, stop: [String] = [], logprobs: Int? = nil) {
            self.prompt = prompt; self.maxTokens = maxTokens; self.temperature = temperature
            self.seed = seed; self.stop = stop; self.logprobs = logprobs
        }
    }

    /// One token's figures as the server gave them: its log-probability and the
    /// alternatives' by piece (the token itself among them, when the server lists it).
    public struct TokenFigures: Equatable {
        public var logprob: Double
        public var alternatives: [String: Double]
    }

    /// What a streamed answer measured.
    public struct StreamedAnswer {
        public var text = ""
        /// Per token, when the server returned logprobs (empty when it returned none).
        public var tokens: [TokenFigures] = []
        /// From the server's `usage` (nil when it sent none).
        public var promptTokens: Int?
        public var completionTokens: Int?
        public var finishReason: String?
        /// From sending the request to the first piece of text, and to the end.
        public var timeToFirstToken: Double?
        public var seconds: Double = 0
        /// Tokens per second after the first (the completion tokens from `usage`).
        public var decodeTokensPerSecond: Double? {
            guard let n = completionTokens, n > 1, let first = timeToFirstToken, seconds > first else { return nil }
            return Double(n - 1) / (seconds - first)
        }
    }

    /// POST /v1/completions with `stream: true`; `onText` gets each piece as it arrives.
    public func streamCompletion(_ ask: CompletionAsk, shouldStop: @escaping () -> Bool = { false },
                                 onText: @escaping (String) -> Void = { _ in }) throws -> StreamedAnswer {
        var body = common(ask)
        body["prompt"] = ask.prompt
        if let k = ask.logprobs { body["logprobs"] = k }
        return try stream("completions", body: body, shouldStop: shouldStop, onText: onText)
    }

    /// POST /v1/chat/completions with `stream: true`: the server applies its chat template.
    /// `messages` are (role, content) pairs; `ask.prompt` is not used.
    public func streamChat(_ messages: [(role: String, content: String)], _ ask: CompletionAsk,
                           shouldStop: @escaping () -> Bool = { false }, onText: @escaping (String) -> Void = { _ in }) throws -> StreamedAnswer {
        var body = common(ask)
        body["messages"] = messages.map { ["role": $0.role, "content": $0.content] }
        if let k = ask.logprobs { body["logprobs"] = true; body["top_logprobs"] = k }
        return try stream("chat/completions", body: body, shouldStop: shouldStop, onText: onText)
    }

    /// The fields both routes share.
    private func common(_ ask: CompletionAsk) -> [String: Any] {
        var body: [String: Any] = ["model": endpoint.model, "max_tokens": ask.maxTokens, "temperature": ask.temperature,
                                   "stream": true, "stream_options": ["include_usage": true]]
        if let seed = ask.seed { body["seed"] = seed }
        if !ask.stop.isEmpty { body["stop"] = ask.stop }
        return body
    }

    private func stream(_ route: String, body: [String: Any], shouldStop: @escaping () -> Bool,
                        onText: @escaping (String) -> Void) throws -> StreamedAnswer {
        let json = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return try Blocking.run(shouldStop: shouldStop) { [self] in
            var request = HTTPClientRequest(url: endpoint.route(route))
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
            let start = Date()
            let response = try await open(request)
            var answer = StreamedAnswer()
            var reader = ServerSentEvents()
            var sawEnd = false
            do {
                for try await buffer in response.body {
                    for event in reader.feed(Array(buffer.readableBytesView)) {
                        if event == "[DONE]" { sawEnd = true; continue }
                        try absorb(event, into: &answer, start: start, onText: onText)
                    }
                }
            } catch {
                throw APIFailure.transport(error, endpoint: endpoint, timeout: timeout, midStream: true)
            }
            answer.seconds = Date().timeIntervalSince(start)
            // A cancelled body may just end: that is Ctrl-C, not a dropped stream.
            if Task.isCancelled { throw APIFailure(.interrupted, "stopped by Ctrl-C") }
            // An answer that ends with neither [DONE] nor a finish_reason was cut off.
            guard sawEnd || answer.finishReason != nil else {
                throw APIFailure(.streamDropped, "\(endpoint.baseURL) ended the stream mid-answer (no finish_reason, no [DONE])")
            }
            return answer
        }
    }

    /// One `data:` event of a completion stream folded into the answer.
    private func absorb(_ event: String, into answer: inout StreamedAnswer, start: Date, onText: (String) -> Void) throws {
        guard let chunk = try? JSONDecoder().decode(StreamChunk.self, from: Data(event.utf8)) else {
            throw APIFailure(.badResponse, "\(endpoint.baseURL) streamed something that is not a completion chunk: "
                             + TextUtil.sanitize(String(event.prefix(80))))
        }
        if let error = chunk.error {
            throw APIFailure(.serverError, "\(endpoint.baseURL) failed mid-answer: \(TextUtil.sanitize(error.message))")
        }
        if let usage = chunk.usage {
            answer.promptTokens = usage.prompt_tokens
            answer.completionTokens = usage.completion_tokens
        }
        for choice in chunk.choices ?? [] where (choice.index ?? 0) == 0 {
            if let text = choice.text ?? choice.delta?.content, !text.isEmpty {
                if answer.timeToFirstToken == nil { answer.timeToFirstToken = Date().timeIntervalSince(start) }
                answer.text += text
                onText(text)
            }
            if let lp = choice.logprobs, let values = lp.token_logprobs {
                // Legacy completions: parallel lists.
                for (i, v) in values.enumerated() {
                    guard let v else { continue }
                    let alternatives = lp.top_logprobs.flatMap { i < $0.count ? $0[i] : nil } ?? [:]
                    answer.tokens.append(TokenFigures(logprob: v, alternatives: alternatives))
                }
            }
            for t in choice.logprobs?.content ?? [] {
                // Chat: one entry per token with its own list of alternatives.
                let alternatives = Dictionary((t.top_logprobs ?? []).map { ($0.token, $0.logprob) }, uniquingKeysWith: { a, _ in a })
                answer.tokens.append(TokenFigures(logprob: t.logprob, alternatives: alternatives))
            }
            if let reason = choice.finish_reason { answer.finishReason = reason }
        }
    }

    /// Sends a request and reads the whole body (small answers: the model list).
    private func send(_ request: HTTPClientRequest) async throws -> Data {
        let response = try await open(request)
        do {
            return Data(buffer: try await response.body.collect(upTo: 8 << 20))
        } catch {
            throw APIFailure.transport(error, endpoint: endpoint, timeout: timeout, midStream: true)
        }
    }

    /// Sends a request with the key, turning transport errors and non-2xx answers into APIFailure.
    private func open(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        var request = request
        if let key { request.headers.add(name: "Authorization", value: "Bearer " + key) }
        let response: HTTPClientResponse
        do {
            // The connect and read timeouts bound each wait; this deadline only stops a server
            // that trickles bytes forever.
            response = try await http.execute(request, timeout: .seconds(3600))
        } catch {
            throw APIFailure.transport(error, endpoint: endpoint, timeout: timeout, midStream: false)
        }
        guard (200..<300).contains(response.status.code) else {
            let body = (try? await response.body.collect(upTo: 64 << 10)).map { Data(buffer: $0) } ?? Data()
            throw APIFailure.status(response.status.code, body: body, endpoint: endpoint)
        }
        return response
    }
}

/// Splits a server-sent-event byte stream into the `data:` payloads of its events.
/// Bytes may arrive cut anywhere, even inside a UTF-8 character, so lines are cut from bytes.
struct ServerSentEvents {
    private var pending: [UInt8] = []
    private var data: [String] = []

    mutating func feed(_ bytes: [UInt8]) -> [String] {
        pending += bytes
        var events: [String] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let text = String(decoding: line, as: UTF8.self)
            if text.isEmpty {
                if !data.isEmpty { events.append(data.joined(separator: "\n")); data = [] }
            } else if text.hasPrefix("data:") {
                data.append(String(text.dropFirst(5)).trimmingCharacters(in: .whitespaces))
            }   // comments (":") and other fields (event:, id:) are ignored
        }
        return events
    }
}

/// The stream chunk as any OpenAI-compatible server sends it: every field optional,
/// unknown ones ignored (llama-server, vLLM and Ollama each add their own).
struct StreamChunk: Decodable {
    struct Choice: Decodable {
        var index: Int?
        var text: String?
        var delta: Delta?
        var logprobs: Logprobs?
        var finish_reason: String?
    }
    struct Delta: Decodable { var content: String? }
    struct Logprobs: Decodable {
        var token_logprobs: [Double?]?
        var top_logprobs: [[String: Double]?]?
        var content: [ChatToken]?
    }
    struct ChatToken: Decodable {
        struct Alternative: Decodable { var token: String; var logprob: Double }
        var token: String?
        var logprob: Double
        var top_logprobs: [Alternative]?
    }
    struct UsageFigures: Decodable {
        var prompt_tokens: Int?
        var completion_tokens: Int?
    }
    var choices: [Choice]?
    var usage: UsageFigures?
    var error: ErrorBody.Detail?
}

struct LenientModelList: Decodable {
    struct Entry: Decodable { var id: String }
    var data: [Entry]
}

/// Runs async work from a synchronous command and waits for it, cancelling it when
/// `shouldStop` turns true (Ctrl-C) so a stalled server never holds the lab.
enum Blocking {
    private final class Box<T>: @unchecked Sendable { var result: Result<T, Error>? }

    static func run<T>(shouldStop: @escaping () -> Bool, _ body: @escaping () async throws -> T) throws -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        let task = Task.detached {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        while done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if shouldStop() { task.cancel() }
        }
        return try box.result!.get()
    }
}
