import Foundation

/// log Σ exp(logits) and the top logit's index, computed stably (the max is
/// subtracted before exp, the terms summed in double so 262k tiny ones add up).
/// log softmax(logits)[i] = logits[i] − logZ. Perplexity, KL divergence and
/// `gen --probs` all read probabilities this way.
public struct LogSumExp {
    public let logZ: Double
    public let top: Int

    public init(_ logits: UnsafeBufferPointer<Float>) {
        var m = -Float.infinity, top = 0
        for i in 0..<logits.count where logits[i] > m { m = logits[i]; top = i }
        var sum = 0.0
        for v in logits { sum += exp(Double(v - m)) }
        logZ = Double(m) + log(sum)
        self.top = top
    }

    /// log softmax(logits)[i].
    @inline(__always)
    public func logProbability(_ logit: Float) -> Double { Double(logit) - logZ }
}
