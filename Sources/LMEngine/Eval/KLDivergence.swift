import Foundation

/// How far a model's next-token distributions moved from a reference's, the
/// way `llama-perplexity --kl-divergence` measures it: on the same chunks and
/// positions as perplexity, the mean of KL(P_reference ‖ P_candidate) and the
/// share of positions where both pick the same top token ("same top").
///
/// Both weight sets belong to one model; each chunk runs twice, once per set.
public struct KLDResult: Sendable, Codable, Equatable {
    public var meanKLD: Double
    public var standardError: Double
    /// Share of scored positions where the candidate's top token equals the reference's (0…1).
    public var sameTop: Double
    public var perplexity: Double
    public var referencePerplexity: Double
    public var chunks: Int
    public var scoredTokens: Int
    public var seconds: Double
}

public enum KLDivergence {
    public static func measure(model: DecoderModel, reference: WeightSet, candidate: WeightSet?,
                               text: String, context: Int = 256, maxChunks: Int? = nil,
                               shouldStop: () -> Bool = { false },
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> KLDResult {
        let (tokens, chunks) = try Perplexity.tokenChunks(model: model, text: text, context: context, maxChunks: maxChunks)
        defer { model.use(candidate) }
        let first = context / 2, scored = context - 1 - first, vocab = model.config.vocabulary
        // The reference's log-probabilities for one chunk: [scored × vocab].
        var referenceLogProbs = [Float](repeating: 0, count: scored * vocab)
        var referenceTop = [Int](repeating: 0, count: scored)
        var kl = 0.0, kl2 = 0.0, same = 0, count = 0, nll = 0.0, referenceNLL = 0.0
        let start = Date()
        for c in 0..<chunks {
            if shouldStop() { throw Perplexity.Failure.interrupted }
            let chunk = Perplexity.chunk(c, of: tokens, context: context, tokenizer: model.tokenizer)
            model.use(reference)
            model.reset()
            try referenceLogProbs.withUnsafeMutableBufferPointer { store in
                try model.forward(chunk, logitsFrom: first, shouldStop: shouldStop) { j, logits in
                    guard j < context - 1 else { return }
                    let row = store.baseAddress! + (j - first) * vocab
                    referenceTop[j - first] = logSoftmax(logits, into: row)
                    referenceNLL -= Double(row[Int(chunk[j + 1])])
                }
            }
            model.use(candidate)
            model.reset()
            try referenceLogProbs.withUnsafeBufferPointer { store in
                try model.forward(chunk, logitsFrom: first, shouldStop: shouldStop) { j, logits in
                    guard j < context - 1 else { return }
                    let p = store.baseAddress! + (j - first) * vocab
                    let q = LogSumExp(logits)
                    var d = 0.0
                    for v in 0..<vocab {
                        let lp = Double(p[v])
                        d += exp(lp) * (lp - q.logProbability(logits[v]))
                    }
                    kl += d; kl2 += d * d; count += 1
                    if q.top == referenceTop[j - first] { same += 1 }
                    nll -= q.logProbability(logits[Int(chunk[j + 1])])
                }
            }
            progress(c + 1, chunks)
        }
        let mean = kl / Double(count)
        let variance = max(0, kl2 / Double(count) - mean * mean)
        return KLDResult(meanKLD: mean, standardError: (variance / Double(max(1, count - 1))).squareRoot(),
                         sameTop: Double(same) / Double(count), perplexity: exp(nll / Double(count)),
                         referencePerplexity: exp(referenceNLL / Double(count)), chunks: chunks,
                         scoredTokens: count, seconds: Date().timeIntervalSince(start))
    }

    /// Writes log softmax(logits) into `out` and returns the top index.
    static func logSoftmax(_ logits: UnsafeBufferPointer<Float>, into out: UnsafeMutablePointer<Float>) -> Int {
        let z = LogSumExp(logits)
        for v in 0..<logits.count { out[v] = Float(z.logProbability(logits[v])) }
        return z.top
    }
}
