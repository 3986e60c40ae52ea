import Foundation

/// A tier on an OpenAI-compatible server. An exact item is one greedy completion
/// (temperature 0, stopping at the first newline, as the local decode does) asked
/// with `logprobs`, whose token log-probabilities and top-2 alternatives give the
/// same confidence figures a local tier computes from its logits. Tokens and seconds
/// are what the call measured: `usage`, and the wall time seen here, network included.
public struct APITierAnswerer: TierAnswerer {
    public let api: APIModel
    /// Alternatives asked per token: two give the top-1 − top-2 margin; more tighten the entropy's bound.
    public static let alternatives = 5

    public init(api: APIModel) { self.api = api }

    /// An API model's answers are measured each run, never cached: the server's model can change behind its name.
    public var cacheKey: String? { nil }

    public func refusal(_ item: WorkloadItem) -> SkipReason? {
        guard item.scoring == .exact else {
            return SkipReason(kind: .unsupported, detail: "a choice item needs the prompt's log-likelihood, which a completions API does not return")
        }
        return nil
    }

    public func answer(_ item: WorkloadItem, shouldStop: @escaping () -> Bool) throws -> TierAnswer {
        let start = Date()
        let streamed: OpenAIClient.StreamedAnswer
        do {
            streamed = try api.client.streamCompletion(
                .init(prompt: item.prompt, maxTokens: item.maxTokens, temperature: 0, stop: ["\n"], logprobs: APITierAnswerer.alternatives),
                shouldStop: shouldStop)
        } catch let failure as APIFailure {
            if failure.kind == .interrupted { throw CommandError.interrupted }
            return .skipped(SkipReason(kind: .failed, detail: failure.detail), seconds: Date().timeIntervalSince(start))
        }
        let firstLine = streamed.text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let figures = streamed.tokens.map(APITierAnswerer.figures)
        var answer = TierAnswer(text: firstLine.trimmingCharacters(in: .whitespaces),
                                logProbabilities: figures.map(\.logProbability), margins: figures.map(\.margin),
                                entropies: figures.map(\.entropy),
                                inputTokens: streamed.promptTokens ?? 0, outputTokens: streamed.completionTokens ?? 0,
                                seconds: Date().timeIntervalSince(start))
        // Text but no figures: this server sends no logprobs, so nothing says how sure it was.
        if figures.isEmpty && (!streamed.text.isEmpty || (streamed.completionTokens ?? 0) > 0) { answer.noLogprobs = true }
        return answer
    }

    /// One token's figures from the logprobs a server lists: the chosen token's log p, the margin
    /// between the two likeliest alternatives, and the entropy over the listed alternatives with
    /// the unlisted rest as one lump — a lower bound on the true entropy.
    static func figures(_ t: OpenAIClient.TokenFigures) -> (logProbability: Double, margin: Double, entropy: Double) {
        let listed = (t.alternatives.isEmpty ? [t.logprob] : Array(t.alternatives.values)).map { exp($0) }.sorted(by: >)
        let margin = listed[0] - (listed.count > 1 ? listed[1] : 0)
        let rest = max(0, 1 - listed.reduce(0, +))
        let entropy = (listed + [rest]).reduce(0.0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
        return (t.logprob, margin, entropy)
    }
}
