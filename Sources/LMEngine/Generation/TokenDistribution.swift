import Foundation

/// The next-token distribution softmax(logits / T) over the whole vocabulary,
/// with the figures a student reads off it: top tokens and entropy.
public struct TokenDistribution: Sendable {
    /// One probability per token id, summing to 1.
    public let probabilities: [Float]
    public let temperature: Float

    /// T = 0 is greedy decoding's view: all the mass on the highest logit (lowest id on ties).
    public init(logits: [Float], temperature: Float = 1) {
        self.temperature = temperature
        guard let top = logits.max() else { probabilities = []; return }
        if temperature <= 0 {
            var p = [Float](repeating: 0, count: logits.count)
            p[logits.firstIndex(of: top)!] = 1
            probabilities = p
            return
        }
        // Subtracting the max keeps exp from overflowing; sums in Double so 262K tiny terms add up.
        let t = Double(temperature)
        let e = logits.map { exp((Double($0) - Double(top)) / t) }
        let sum = e.reduce(0, +)
        probabilities = e.map { Float($0 / sum) }
    }

    /// The k most likely ids, most likely first (ties by lower id).
    public func top(_ k: Int) -> [(id: Int32, probability: Float)] {
        let order = probabilities.indices.sorted {
            probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1)
        }
        return order.prefix(max(0, k)).map { (Int32($0), probabilities[$0]) }
    }

    /// −Σ p log₂ p: 0 when one token is certain, log₂(vocabulary) when all are equal.
    public var entropyBits: Double {
        let h = -probabilities.reduce(0.0) { $1 > 0 ? $0 + Double($1) * log2(Double($1)) : $0 }
        return h == 0 ? 0 : h   // not "-0.00" for a certain token
    }
}

extension TokenDistribution {
    /// softmax(logits)[id] at T = 1 — how likely the model itself found a token —
    /// without building the whole distribution.
    public static func probability(of id: Int32, logits: UnsafeBufferPointer<Float>) -> Float {
        guard logits.indices.contains(Int(id)) else { return 0 }
        return Float(exp(LogSumExp(logits).logProbability(logits[Int(id)])))
    }
}
