import Foundation

/// Figures from one generation, as the `gen` stats line and `--json` print them.
public struct GenerationStats: Sendable, Equatable, Codable {
    public enum StopReason: String, Sendable, Codable { case endOfText = "eos", length, context, interrupted }
    public var promptTokens = 0
    public var newTokens = 0
    /// Seconds from start to the first new token (prefill + one sample).
    public var timeToFirstToken = 0.0
    public var prefillSeconds = 0.0
    public var decodeSeconds = 0.0
    public var stopReason = StopReason.length

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    /// Decode speed over the tokens after the first (each needs one forward step).
    public var decodeTokensPerSecond: Double {
        newTokens > 1 && decodeSeconds > 0 ? Double(newTokens - 1) / decodeSeconds : 0
    }
}

/// Runs the token loop: prefill the prompt, then sample and feed back one token
/// at a time, streaming each as it comes.
public final class Generator {
    public let model: DecoderModel
    /// When set, called with each generated token and its probability under the model
    /// (softmax of the logits at T = 1), just before `onToken`. Costs one pass over
    /// the vocabulary per token, so it is off unless asked for.
    public var onProbability: ((Int32, Float) -> Void)?

    public init(model: DecoderModel) { self.model = model }

    /// Generates up to `maxTokens` after `prompt` (which continues the model's
    /// current cache unless `reset`). `onToken(id, text)` gets each new token with
    /// the text it completes (never half a UTF-8 character; may be empty).
    /// `shouldStop` is polled between tokens (Ctrl-C).
    public func generate(prompt: [Int32], maxTokens: Int, sampler: Sampler, reset: Bool = true,
                         shouldStop: () -> Bool = { false },
                         onToken: (Int32, String) -> Void) throws -> (ids: [Int32], stats: GenerationStats) {
        if reset { model.reset() }
        var stats = GenerationStats()
        stats.promptTokens = prompt.count
        guard !prompt.isEmpty else { throw ModelError.badConfig("the prompt is empty") }
        let capacity = model.cache.capacity
        guard model.position + prompt.count <= capacity else {
            throw ModelError.promptTooLong(tokens: model.position + prompt.count, context: capacity)
        }
        let tokenizer = model.tokenizer
        var decoder = UTF8StreamDecoder()
        var history = prompt
        var generated: [Int32] = []
        generated.reserveCapacity(maxTokens)
        history.reserveCapacity(prompt.count + maxTokens)

        let start = Date()
        var next: Int32 = 0
        var nextProbability: Float = 0
        var finished = false
        let completed = try model.forward(prompt, logitsFrom: prompt.count - 1, shouldStop: shouldStop) { _, logits in
            next = sampler.sample(logits, recent: history[...])
            if onProbability != nil { nextProbability = TokenDistribution.probability(of: next, logits: logits) }
        }
        stats.prefillSeconds = Date().timeIntervalSince(start)
        stats.timeToFirstToken = stats.prefillSeconds
        if !completed { stats.stopReason = .interrupted; finished = true }
        if maxTokens == 0 { finished = true; stats.stopReason = .length }

        let decodeStart = Date()
        var single: [Int32] = [0]   // reused: no array per token
        while !finished {
            if tokenizer.endOfTurnIDs.contains(next) || next == tokenizer.eosID {
                stats.stopReason = .endOfText
                break
            }
            generated.append(next)
            history.append(next)
            onProbability?(next, nextProbability)
            onToken(next, decoder.append(tokenizer.isSpecial(next) ? Array(tokenizer.piece(next).utf8) : tokenizer.bytes(next)))
            if generated.count >= maxTokens { stats.stopReason = .length; break }
            if shouldStop() { stats.stopReason = .interrupted; break }
            if model.position >= capacity { stats.stopReason = .context; break }
            single[0] = next
            try model.forward(single, logitsFrom: 0) { _, logits in
                next = sampler.sample(logits, recent: history[...])
                if onProbability != nil { nextProbability = TokenDistribution.probability(of: next, logits: logits) }
            }
        }
        let tail = decoder.flush()
        if !tail.isEmpty { onToken(-1, tail) }
        stats.newTokens = generated.count
        stats.decodeSeconds = Date().timeIntervalSince(decodeStart)
        return (generated, stats)
    }
}
