import Foundation
import Hummingbird
import LMEngine

/// POST /v1/chat/completions: the messages rendered in the model's chat template,
/// answered whole or streamed as chat.completion.chunk events.
struct ChatCompletionsRoute {
    let server: LabServer
    func register(on router: ServeRouter) {
        router.post("/v1/chat/completions") { [server] request, context in
            try await respond(try await RequestBodyReader.decode(ChatRequest.self, from: request), server: server, context: context)
        }
    }

    func respond(_ body: ChatRequest, server: LabServer, context: ServeContext) async throws -> Response {
        let worker = try server.worker(body.model)
        guard let template = worker.loaded.chatTemplate else {
            throw APIError.badRequest("model '\(worker.name)' has no chat template; use /v1/completions", param: "model")
        }
        guard !body.messages.isEmpty else { throw APIError.badRequest("messages is empty", param: "messages") }
        let messages = try body.messages.enumerated().map { i, m -> ChatMessage in
            switch m.role {
            case "system", "developer": return .system(m.content)
            case "user": return .user(m.content)
            case "assistant": return .assistant(m.content)
            default: throw APIError.badRequest("messages[\(i)].role '\(TextUtil.sanitize(m.role))' is not one of system, user, assistant", param: "messages")
            }
        }
        if (body.logprobs ?? false) == false, body.top_logprobs != nil {
            throw APIError.badRequest("top_logprobs needs logprobs: true", param: "top_logprobs")
        }
        let plan = try GenerationPlan(
            server: server, model: body.model, prompt: template.render(messages, addGenerationPrompt: true),
            maxTokens: body.max_completion_tokens ?? body.max_tokens, temperature: body.temperature, topP: body.top_p,
            seed: body.seed, stop: body.stop, n: body.n,
            topLogprobs: body.logprobs == true ? (body.top_logprobs ?? 0) : nil, idPrefix: "chatcmpl-")
        let started = Date()
        let (events, headers, cancel, depth) = try plan.start(context: context)
        let wantLogprobs = body.logprobs == true
        let model = plan.worker.name

        if body.stream == true {
            let includeUsage = body.stream_options?.include_usage == true
            return SSEStream.response(headers: headers, cancel: cancel) { send in
                func chunk(_ delta: ChatDelta, logprobs: ChatLogprobs? = nil, finish: String? = nil) -> ChatChunk {
                    ChatChunk(id: plan.id, created: plan.created, model: model,
                              choices: [ChatChunkChoice(index: 0, delta: delta, logprobs: logprobs, finish_reason: finish)])
                }
                try await send(JSONResponse.event(chunk(ChatDelta(role: "assistant", content: ""))))
                var usage: Usage?
                var reason = "cancelled"
                // Logged however the stream ends: a client that left shows as cancelled.
                defer { server.log.line(plan.logLine("chat (stream)", usage: usage, reason: reason, depth: depth, since: started)) }
                for try await event in events {
                    switch event {
                    case let .text(text, tokens):
                        let lp = wantLogprobs ? ChatLogprobs(content: tokens.map(\.chatLogprob)) : nil
                        try await send(JSONResponse.event(chunk(ChatDelta(content: text), logprobs: lp)))
                    case let .finished(r, u):
                        reason = r; usage = u
                        try await send(JSONResponse.event(chunk(ChatDelta(), finish: GenerationPlan.finishReason(r))))
                        if includeUsage {
                            try await send(JSONResponse.event(ChatChunk(id: plan.id, created: plan.created, model: model, choices: [], usage: u)))
                        }
                    }
                }
            }
        }

        defer { cancel.set() }
        var text = ""
        var logprobs: [ChatTokenLogprob] = []
        var usage = Usage(prompt_tokens: plan.job.prompt.count, completion_tokens: 0, total_tokens: plan.job.prompt.count)
        var reason = "cancelled"
        for try await event in events {
            switch event {
            case let .text(t, tokens): text += t; if wantLogprobs { logprobs += tokens.map(\.chatLogprob) }
            case let .finished(r, u): reason = r; usage = u
            }
        }
        server.log.line(plan.logLine("chat", usage: usage, reason: reason, depth: depth, since: started))
        let choice = ChatChoice(index: 0, message: ChatResponseMessage(role: "assistant", content: text),
                                logprobs: wantLogprobs ? ChatLogprobs(content: logprobs) : nil,
                                finish_reason: GenerationPlan.finishReason(reason))
        return try JSONResponse.make(ChatResponse(id: plan.id, created: plan.created, model: model, choices: [choice], usage: usage),
                                     headers: headers)
    }
}
