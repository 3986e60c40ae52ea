import Foundation
import LMEngine

/// `compare models PROMPT`: the same prompt through every loaded model, side by
/// side — how each tokenizes it, what each expects next, what each writes
/// greedily, how fast, and how much memory each takes. An API model takes part
/// with what its server reports: usage, the first token's logprobs, measured times.
enum CompareModels {
    static let flags = [
        Arguments.Flag("max", value: "N", "greedy tokens to generate per model (default 24)"),
        Arguments.Flag.json("with every model's figures"),
    ]

    /// `id` is nil for an API model: its server names pieces, not ids.
    struct Candidate: Codable { var id: Int32?; var piece: String; var probability: Float }
    /// One model's figures for the prompt (nil: not known for an API model).
    struct Row: Codable {
        var model: String; var file: String; var parameters: Int?
        var prompt_tokens: Int?; var top: [Candidate]; var continuation: String; var new_tokens: Int?
        var prefill_tokens_per_s: Double?; var decode_tokens_per_s: Double?; var memory_bytes: Int?
        var time_to_first_token_s: Double?
    }
    struct JSONOutput: Codable { var prompt: String; var models: [Row] }

    static func run(_ args: Arguments, session: Session) throws {
        let prompt = args.text
        guard !prompt.isEmpty else { throw CommandError.usage("compare models needs a prompt, e.g. compare models The capital of France is") }
        guard !session.models.isEmpty else { _ = try session.requireModel(); return }
        let maxTokens: Int = try args.number("max", in: 1...1024) ?? 24
        var rows: [Row] = []
        for loaded in session.models.all {
            try session.interrupt.check()
            rows.append(try measure(loaded, prompt: prompt, maxTokens: maxTokens, session: session))
        }
        for api in session.models.remote {
            try session.interrupt.check()
            rows.append(try measure(api, prompt: prompt, maxTokens: maxTokens, session: session))
        }
        let console = session.console
        if args.json { return console.line(try JSONText.encode(JSONOutput(prompt: prompt, models: rows))) }

        var t = Table([""] + rows.map { console.styled($0.model, .bold) },
                      alignments: [.left] + rows.map { _ in .left })
        t.add(["file"] + rows.map(\.file))
        t.add(["parameters"] + rows.map { $0.parameters.map(TextUtil.count) ?? "?" })
        t.add(["prompt tokens"] + rows.map { $0.prompt_tokens.map(String.init) ?? "?" })
        for rank in 0..<5 {
            t.add(["next #\(rank + 1)"] + rows.map { r in
                rank < r.top.count ? "\"" + TokensCommand.visible(r.top[rank].piece) + "\" "
                    + String(format: "%.3f", r.top[rank].probability) : ""
            })
        }
        t.add(["prefill tok/s"] + rows.map { $0.prefill_tokens_per_s.map { String(format: "%.0f", $0) } ?? "–" })
        t.add(["first token"] + rows.map { $0.time_to_first_token_s.map { String(format: "%.0f ms", $0 * 1000) } ?? "–" })
        t.add(["decode tok/s"] + rows.map { $0.decode_tokens_per_s.map { String(format: "%.1f", $0) } ?? "–" })
        t.add(["memory"] + rows.map { $0.memory_bytes.map(TextUtil.bytes) ?? "none here (API)" })
        console.line(t.render(console: console))
        console.line()
        console.line("greedy continuation (\(maxTokens) tokens at most):")
        for r in rows {
            console.line(console.styled(r.model, .bold) + ": " + TextUtil.sanitize(r.continuation.replacingOccurrences(of: "\n", with: "↵")))
        }
        console.line(console.styled("tok/s measured just now on this machine; memory = mapped weights + KV cache in use + buffers"
                                    + (session.models.remote.isEmpty ? "" : "; API models: times measured here over the network, tokens from the server's usage"),
                                    .dim))
    }

    /// Runs the prompt once for the next-token distribution, then greedily for the continuation.
    static func measure(_ loaded: LoadedModel, prompt: String, maxTokens: Int, session: Session) throws -> Row {
        let model = loaded.model
        let ids = model.tokenizer.encode(prompt, addBOS: model.tokenizer.addsBOS, parseSpecial: true)
        guard !ids.isEmpty else { throw CommandError.usage("the prompt gives no tokens for \(loaded.name)") }
        // A small model with a short context writes what fits (tiny-math holds 16 tokens).
        guard ids.count < model.cache.capacity else {
            throw CommandError.usage("\(loaded.name): the prompt's \(ids.count) tokens don't fit its context of \(model.cache.capacity)")
        }
        let maxTokens = min(maxTokens, model.cache.capacity - ids.count)
        loaded.forgetConversation()
        model.reset()
        let top = TokenDistribution(logits: try model.logitsAfter(ids)).top(5).map {
            Candidate(id: $0.id, piece: TokensCommand.pieceText($0.id, model.tokenizer), probability: $0.probability)
        }
        var text = ""
        let result = try Generator(model: model).generate(
            prompt: ids, maxTokens: maxTokens, sampler: Sampler(.greedy), shouldStop: { session.interrupt.isSet }
        ) { _, piece in text += piece }
        if result.stats.stopReason == .interrupted { throw CommandError.interrupted }
        return Row(model: loaded.name, file: loaded.url.lastPathComponent, parameters: loaded.parameterCount,
                   prompt_tokens: ids.count, top: top, continuation: text, new_tokens: result.stats.newTokens,
                   prefill_tokens_per_s: result.stats.prefillTokensPerSecond,
                   decode_tokens_per_s: result.stats.decodeTokensPerSecond, memory_bytes: loaded.memory.total,
                   time_to_first_token_s: result.stats.timeToFirstToken)
    }

    /// One greedy streamed completion asking for the top 5 alternatives per token:
    /// the first token's alternatives are the "next" rows.
    static func measure(_ api: APIModel, prompt: String, maxTokens: Int, session: Session) throws -> Row {
        let answer: OpenAIClient.StreamedAnswer
        do {
            answer = try api.client.streamCompletion(.init(prompt: prompt, maxTokens: maxTokens, temperature: 0, logprobs: 5),
                                                     shouldStop: { session.interrupt.isSet })
        } catch let failure as APIFailure {
            if failure.kind == .interrupted { throw CommandError.interrupted }
            throw CommandError.failed("\(api.name): \(failure.detail)")
        }
        let top = (answer.tokens.first?.alternatives ?? [:]).sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .prefix(5).map { Candidate(id: nil, piece: $0.key, probability: Float(exp($0.value))) }
        return Row(model: api.name, file: "API " + api.endpoint.display, parameters: nil, prompt_tokens: answer.promptTokens,
                   top: top, continuation: answer.text, new_tokens: answer.completionTokens, prefill_tokens_per_s: nil,
                   decode_tokens_per_s: answer.decodeTokensPerSecond, memory_bytes: nil, time_to_first_token_s: answer.timeToFirstToken)
    }
}
