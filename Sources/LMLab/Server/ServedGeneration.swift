import Foundation
import LMEngine

/// What one request asks the model for, already checked and tokenized.
struct GenerationJob {
    var prompt: [Int32]
    var maxTokens: Int
    var sampling: SamplerSettings
    var stop: [String]
    /// nil: no logprobs. 0…20: the chosen token's logprob plus this many most likely alternatives.
    var topLogprobs: Int?
}

/// One generated token as the API reports it with logprobs.
struct TokenReport {
    struct Alternative { var piece: String; var bytes: [UInt8]; var logprob: Double }
    var id: Int32
    var piece: String
    var bytes: [UInt8]
    var logprob: Double
    var top: [Alternative]
}

/// What the token loop hands out while it runs.
enum GenerationEvent {
    /// Text released to the client (may be empty when only logprobs are new) and
    /// the tokens that produced it (with logprobs only when asked for).
    case text(String, tokens: [TokenReport])
    /// The end: OpenAI's finish_reason ("stop" or "length"; "cancelled" when the client left) and usage.
    case finished(reason: String, usage: Usage)
}

/// The server's token loop: prefill, sample, feed back, one token at a time,
/// with what the API adds over `Generator`: logprobs of the top alternatives,
/// stop strings, and stopping when the client has gone. Runs on the model's
/// worker thread (the engine is single-threaded per model).
enum ServedGeneration {
    static func run(_ job: GenerationJob, model: DecoderModel, shouldStop: () -> Bool,
                    emit: (GenerationEvent) -> Void) throws {
        let tokenizer = model.tokenizer
        let sampler = Sampler(job.sampling)
        var history = job.prompt
        var generated = 0
        var next: Int32 = 0
        var nextReport: TokenReport?
        var decoder = UTF8StreamDecoder()
        var stops = StopMatcher(job.stop)
        var pending: [TokenReport] = []
        var reason = "length"
        var hitStopString = false

        // Called with the logits of the position that predicts the next token.
        func choose(_ logits: UnsafeBufferPointer<Float>) {
            next = sampler.sample(logits, recent: history[...])
            if let k = job.topLogprobs { nextReport = report(next, logits: logits, top: k, tokenizer: tokenizer) }
        }

        model.reset()
        let completed = try model.forward(job.prompt, logitsFrom: job.prompt.count - 1, shouldStop: shouldStop) { _, logits in
            choose(logits)
        }
        if !completed { reason = "cancelled" }
        var single: [Int32] = [0]
        while completed && job.maxTokens > 0 {
            if tokenizer.endOfTurnIDs.contains(next) || next == tokenizer.eosID { reason = "stop"; break }
            generated += 1
            history.append(next)
            if let nextReport { pending.append(nextReport) }
            let bytes = tokenizer.isSpecial(next) ? Array(tokenizer.piece(next).utf8) : tokenizer.bytes(next)
            let (release, stopped) = stops.feed(decoder.append(bytes))
            if !release.isEmpty || stopped || !pending.isEmpty {
                emit(.text(release, tokens: pending)); pending = []
            }
            if stopped { reason = "stop"; hitStopString = true; break }
            if generated >= job.maxTokens { reason = "length"; break }
            if shouldStop() { reason = "cancelled"; break }
            if model.position >= model.cache.capacity { reason = "length"; break }
            single[0] = next
            try model.forward(single, logitsFrom: 0) { _, logits in choose(logits) }
        }
        if !hitStopString {   // what the stop matcher and the UTF-8 decoder still hold
            let tail = stops.feed(decoder.flush()).release + stops.flush()
            if !tail.isEmpty || !pending.isEmpty { emit(.text(tail, tokens: pending)) }
        }
        emit(.finished(reason: reason, usage: Usage(prompt_tokens: job.prompt.count, completion_tokens: generated,
                                                    total_tokens: job.prompt.count + generated)))
    }

    /// The chosen token's log-probability under the model (softmax at T = 1, as
    /// `gen --probs` shows it) and the `top` most likely tokens with theirs.
    static func report(_ id: Int32, logits: UnsafeBufferPointer<Float>, top: Int, tokenizer: Tokenizer) -> TokenReport {
        let lse = LogSumExp(logits)
        let alternatives = mostLikely(top, logits: logits).map { alt -> TokenReport.Alternative in
            let b = tokenizer.bytes(alt)
            return .init(piece: tokenizer.piece(alt), bytes: b, logprob: lse.logProbability(logits[Int(alt)]))
        }
        return TokenReport(id: id, piece: tokenizer.piece(id), bytes: tokenizer.bytes(id),
                           logprob: lse.logProbability(logits[Int(id)]), top: alternatives)
    }

    /// The k highest logits' ids, highest first (lower id on ties): one pass over
    /// the vocabulary keeping a small sorted list, k ≤ 20.
    static func mostLikely(_ k: Int, logits: UnsafeBufferPointer<Float>) -> [Int32] {
        guard k > 0 else { return [] }
        var best: [(id: Int32, logit: Float)] = []
        best.reserveCapacity(k + 1)
        for i in 0..<logits.count {
            let v = logits[i]
            if best.count == k, let last = best.last, v <= last.logit { continue }
            var at = best.count
            while at > 0 && best[at - 1].logit < v { at -= 1 }
            best.insert((Int32(i), v), at: at)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.id)
    }
}
