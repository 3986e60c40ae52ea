import Foundation
import Hummingbird
import LMEngine

/// POST /v1/completions: continue a plain-text prompt (no chat template).
struct CompletionsRoute {
    let server: LabServer
    func register(on router: ServeRouter) {
        router.post("/v1/completions") { [server] request, context in
            try await respond(try await RequestBodyReader.decode(CompletionRequest.self, from: request), server: server, context: context)
        }
    }

    /// Legacy logprobs are parallel lists; `offset` is where the tokens' text starts in the answer.
    static func logprobs(_ tokens: [TokenReport], offset: Int) -> CompletionLogprobs {
        var at = offset
        var offsets: [Int] = []
        for t in tokens { offsets.append(at); at += t.piece.utf8.count }
        return CompletionLogprobs(
            tokens: tokens.map(\.piece), token_logprobs: tokens.map(\.logprob),
            top_logprobs: tokens.map { t in Dictionary(t.top.map { ($0.piece, $0.logprob) }, uniquingKeysWith: { a, _ in a }) },
            text_offset: offsets)
    }

    func respond(_ body: CompletionRequest, server: LabServer, context: ServeContext) async throws -> Response {
        if body.echo == true { throw APIError.badRequest("echo is not supported", param: "echo") }
        let plan = try GenerationPlan(
            server: server, model: body.model, prompt: body.prompt.text, maxTokens: body.max_tokens,
            temperature: body.temperature, topP: body.top_p, seed: body.seed, stop: body.stop, n: body.n,
            topLogprobs: body.logprobs, idPrefix: "cmpl-")
        let started = Date()
        let (events, headers, cancel, depth) = try plan.start(context: context)
        let wantLogprobs = body.logprobs != nil
        let model = plan.worker.name

        if body.stream == true {
            let includeUsage = body.stream_options?.include_usage == true
            return SSEStream.response(headers: headers, cancel: cancel) { send in
                var usage: Usage?
                var reason = "cancelled"
                // Logged however the stream ends: a client that left shows as cancelled.
                defer { server.log.line(plan.logLine("completion (stream)", usage: usage, reason: reason, depth: depth, since: started)) }
                var offset = 0
                for try await event in events {
                    switch event {
                    case let .text(text, tokens):
                        let lp = wantLogprobs ? CompletionsRoute.logprobs(tokens, offset: offset) : nil
                        offset += tokens.reduce(0) { $0 + $1.piece.utf8.count }
                        try await send(JSONResponse.event(CompletionResponse(
                            id: plan.id, created: plan.created, model: model,
                            choices: [CompletionChoice(text: text, index: 0, logprobs: lp, finish_reason: nil)])))
                    case let .finished(r, u):
                        reason = r; usage = u
                        try await send(JSONResponse.event(CompletionResponse(
                            id: plan.id, created: plan.created, model: model,
                            choices: [CompletionChoice(text: "", index: 0, logprobs: nil, finish_reason: GenerationPlan.finishReason(r))],
                            usage: includeUsage ? u : nil)))
                    }
                }
            }
        }

        defer { cancel.set() }
        var text = ""
        var tokens: [TokenReport] = []
        var usage = Usage(prompt_tokens: plan.job.prompt.count, completion_tokens: 0, total_tokens: plan.job.prompt.count)
        var reason = "cancelled"
        for try await event in events {
            switch event {
            case let .text(t, reports): text += t; tokens += reports
            case let .finished(r, u): reason = r; usage = u
            }
        }
        server.log.line(plan.logLine("completion", usage: usage, reason: reason, depth: depth, since: started))
        let choice = CompletionChoice(text: text, index: 0,
                                      logprobs: wantLogprobs ? CompletionsRoute.logprobs(tokens, offset: 0) : nil,
                                      finish_reason: GenerationPlan.finishReason(reason))
        return try JSONResponse.make(CompletionResponse(id: plan.id, created: plan.created, model: model,
                                                        choices: [choice], usage: usage), headers: headers)
    }
}
