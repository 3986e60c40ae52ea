import Foundation
import Hummingbird
import LMEngine

/// What /v1/completions and /v1/chat/completions share: checking the sampling
/// fields, building the job, and the stream of events a route turns into JSON.
struct GenerationPlan {
    let worker: ModelWorker
    let job: GenerationJob
    let id: String
    let created = Int(Date().timeIntervalSince1970)

    /// Checks the fields both endpoints take; `prompt` is the rendered text to encode.
    init(server: LabServer, model: String, prompt: String, maxTokens: Int?, temperature: Double?, topP: Double?,
         seed: Int?, stop: StopStrings?, n: Int?, topLogprobs: Int?, idPrefix: String) throws {
        worker = try server.worker(model)
        if let n, n != 1 { throw APIError.badRequest("n must be 1: the lab serves one choice per request", param: "n") }
        if let t = temperature, !(0...2).contains(t) { throw APIError.badRequest("temperature must be between 0 and 2, got \(t)", param: "temperature") }
        if let p = topP, !(p > 0 && p <= 1) { throw APIError.badRequest("top_p must be in (0, 1], got \(p)", param: "top_p") }
        if let m = maxTokens, m < 0 { throw APIError.badRequest("max_tokens must be 0 or more, got \(m)", param: "max_tokens") }
        if let k = topLogprobs, !(0...20).contains(k) { throw APIError.badRequest("top_logprobs must be between 0 and 20, got \(k)", param: "top_logprobs") }
        if let s = seed, s < 0 { throw APIError.badRequest("seed must be 0 or more, got \(s)", param: "seed") }
        let stops = stop?.values ?? []
        if stops.count > 4 { throw APIError.badRequest("stop takes at most 4 strings, got \(stops.count)", param: "stop") }

        if server.options.showPrompts {
            server.log.line("received for \(worker.name) (\(prompt.utf8.count) bytes of text): "
                            + TextUtil.truncate(TextUtil.sanitize(prompt), to: 160))
        }
        let model = worker.loaded.model
        let ids = model.tokenizer.encode(prompt, addBOS: model.tokenizer.addsBOS, parseSpecial: true)
        guard !ids.isEmpty else { throw APIError.badRequest("the prompt is empty", param: "prompt") }
        let capacity = model.cache.capacity
        guard ids.count < capacity else {
            throw APIError(status: .badRequest,
                           message: "the prompt is \(ids.count) tokens; \(worker.name)'s context holds \(capacity)",
                           type: "invalid_request_error", code: "context_length_exceeded", param: "messages")
        }
        var sampling = server.defaults
        if let temperature { sampling.temperature = Float(temperature) }
        if let topP { sampling.topP = Float(topP) }
        // No seed: a fresh one per request, as an API does; a seed makes sampling repeatable.
        sampling.seed = seed.map { UInt64($0) } ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let room = capacity - ids.count
        job = GenerationJob(prompt: ids, maxTokens: min(maxTokens ?? server.defaultMaxTokens, room),
                            sampling: sampling, stop: stops, topLogprobs: topLogprobs)
        id = idPrefix + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Queues the job; the events, the depth header, and the flag to stop it.
    func start(context: ServeContext) throws -> (events: AsyncThrowingStream<GenerationEvent, Error>, headers: HTTPFields,
                                                  cancel: ModelWorker.CancelFlag, depth: Int) {
        let (events, depth, cancel) = try worker.generate(job, clientGone: context.clientGone)
        return (events, [.queueDepth: String(depth)], cancel, depth)
    }

    /// OpenAI's finish_reason for the loop's reason; "cancelled" (Ctrl-C at the server) reads as "length".
    static func finishReason(_ reason: String) -> String { reason == "stop" ? "stop" : "length" }

    /// The request's log line: model, tokens in+out, seconds, queue depth, how it ended.
    func logLine(_ route: String, usage: Usage?, reason: String, depth: Int, since start: Date) -> String {
        let tokens = usage.map { "\($0.prompt_tokens)+\($0.completion_tokens) tokens" } ?? "no tokens"
        return String(format: "%@ %@ · %@ · %.2f s · queue %d · %@", route, worker.name, tokens,
                      Date().timeIntervalSince(start), depth, reason == "cancelled" ? "cancelled (client left)" : reason)
    }
}

extension TokenReport {
    var chatLogprob: ChatTokenLogprob {
        ChatTokenLogprob(token: piece, logprob: logprob, bytes: bytes,
                         top_logprobs: top.map { TokenLogprob(token: $0.piece, logprob: $0.logprob, bytes: $0.bytes) })
    }
}

/// Server-sent events for a streamed answer: `data: JSON` per chunk, `data: [DONE]` last.
/// A write that fails (the client left) ends the loop; the caller's cancel flag then stops the model.
enum SSEStream {
    static let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]

    static func response(headers extra: HTTPFields, cancel: ModelWorker.CancelFlag,
                         produce: @escaping @Sendable (_ send: (ByteBuffer) async throws -> Void) async throws -> Void) -> Response {
        var headers = SSEStream.headers
        headers.append(contentsOf: extra)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { cancel.set() }
            do {
                try await produce { try await writer.write($0) }
            } catch let error as APIError {
                try await writer.write(JSONResponse.event(error.body))
            } catch {
                // A failed write: nobody to tell. An engine error: tell the client in the stream.
                try? await writer.write(JSONResponse.event(APIError.server(TextUtil.sanitize(String(describing: error))).body))
                cancel.set()
                throw error
            }
            try await writer.write(JSONResponse.done)
            try await writer.finish(nil)
        })
    }
}
