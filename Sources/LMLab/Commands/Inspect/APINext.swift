import Foundation

/// `next TEXT [K]` on an API model: one token asked for with `logprobs`, and the
/// alternatives the server lists for it (its `top_logprobs`) drawn like the local bars.
/// An API gives at most 20 and no logits, so the entropy is over the listed tokens
/// only — a lower bound of the whole distribution's — and `--temp` can't re-scale it.
enum APINext {
    struct JSONToken: Codable { var piece: String; var probability: Double; var logprob: Double }
    struct JSONOutput: Codable {
        var text: String; var prompt_tokens: Int?; var listed_entropy_bits: Double; var top: [JSONToken]; var model: String
    }

    static func run(_ args: Arguments, api: APIModel, session: Session) throws {
        guard args.options["temp"] == nil else {
            throw CommandError.usage("--temp re-scales the logits; \(api.name) is an API model, which lists log-probabilities, not logits")
        }
        let (words, numbers) = InspectInput.trailingNumbers(args.positionals, upTo: 1)
        let text = words.joined(separator: " ")
        guard !text.isEmpty else { throw CommandError.usage("next needs a text, e.g. next The capital of France is") }
        let k = numbers.first ?? 10
        guard (1...20).contains(k) else { throw CommandError.usage("K must be between 1 and 20 for an API model (the most top_logprobs an API lists), got \(k)") }
        let answer: OpenAIClient.StreamedAnswer
        do {
            answer = try api.client.streamCompletion(.init(prompt: text, maxTokens: 1, temperature: 0, logprobs: k),
                                                     shouldStop: { session.interrupt.isSet }) { _ in }
        } catch let failure as APIFailure {
            if failure.kind == .interrupted { throw CommandError.interrupted }
            throw CommandError.failed("\(api.name): \(failure.detail)")
        }
        guard let first = answer.tokens.first, !first.alternatives.isEmpty else {
            throw CommandError.failed("\(api.name) returned no logprobs for the next token (\(api.endpoint.baseURL) may not support them)")
        }
        let top = first.alternatives.sorted { $0.value > $1.value }.prefix(k).map { (piece: $0.key, logprob: $0.value) }
        let probabilities = top.map { exp($0.logprob) }
        let listedEntropy = -probabilities.reduce(0.0) { $0 + ($1 > 0 ? $1 * log2($1) : 0) }
        session.figures["entropy_bits"] = listedEntropy
        session.figures["top_probability"] = probabilities.first ?? 0
        let console = session.console
        if args.json {
            let out = JSONOutput(text: text, prompt_tokens: answer.promptTokens, listed_entropy_bits: listedEntropy,
                                 top: zip(top, probabilities).map { JSONToken(piece: $0.piece, probability: $1, logprob: $0.logprob) },
                                 model: api.name)
            return console.line(try JSONText.encode(out))
        }
        console.line("after \(answer.promptTokens.map { "\($0) tokens" } ?? "the prompt"), as \(api.name) lists them (temperature 1, over the API):")
        let items = zip(top, probabilities).map { (label: "\"" + TokensCommand.visible($0.piece) + "\"", value: $1) }
        console.line(Charts.barChart(items, width: 30, format: { String(format: "%.3f", $0) }, console: console))
        console.line(String(format: "entropy of the listed tokens %.2f bits (the whole distribution's is at least that) · these %d hold %.1f%%",
                            listedEntropy, top.count, probabilities.reduce(0, +) * 100))
    }
}
