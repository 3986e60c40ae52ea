import Foundation

/// The learning rate at each step: a linear warm-up from 0 to `peak` over
/// `warmup` steps, then a cosine decay from `peak` down to `floor` at `total`.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public var peak: Double
    public var floor: Double
    public var warmup: Int
    public var total: Int

    public init(peak: Double, floor: Double, warmup: Int, total: Int) {
        self.peak = peak; self.floor = floor; self.warmup = warmup; self.total = total
    }

    /// The rate for step (0-based).
    public func rate(at step: Int) -> Double {
        if step < warmup { return peak * Double(step + 1) / Double(warmup) }
        let span = max(1, total - warmup)
        let progress = min(1, Double(step - warmup) / Double(span))
        return floor + (peak - floor) * 0.5 * (1 + cos(.pi * progress))
    }
}

/// AdamW (Loshchilov & Hutter): Adam's moment estimates with weight decay applied
/// to the weights directly rather than through the gradient. Norm weights are not
/// decayed. The two moments share the parameters' flat layout.
public struct AdamW: Sendable {
    public var beta1 = 0.9
    public var beta2 = 0.95
    public var epsilon = 1e-8
    public var weightDecay: Double
    /// The moment estimates, [layout.total] each.
    public var m: [Float]
    public var v: [Float]
    /// Updates done so far (for bias correction).
    public var steps = 0
    /// 1 where a parameter is decayed, 0 for norm weights. [layout.total]
    let decay: [Float]

    public init(layout: ParameterLayout, weightDecay: Double) {
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: layout.total)
        v = m
        var decay = m
        for t in layout.tensors where !t.isNorm {
            for i in t.offset..<(t.offset + t.count) { decay[i] = 1 }
        }
        self.decay = decay
    }

    /// Scales the gradients down so their global L2 norm is at most `maxNorm`;
    /// returns the norm before clipping.
    @discardableResult
    public static func clip(_ gradients: inout [Float], maxNorm: Double) -> Double {
        var sum = 0.0
        for g in gradients { sum += Double(g) * Double(g) }
        let norm = sum.squareRoot()
        if maxNorm > 0, norm > maxNorm {
            let scale = Float(maxNorm / norm)
            for i in gradients.indices { gradients[i] *= scale }
        }
        return norm
    }

    /// One update: p −= lr·(m̂ / (sqrt(v̂) + eps) + wd·p).
    public mutating func step(_ parameters: inout [Float], _ gradients: [Float], learningRate: Double) {
        steps += 1
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        let correction1 = Float(1 - pow(beta1, Double(steps))), correction2 = Float(1 - pow(beta2, Double(steps)))
        let lr = Float(learningRate), wd = Float(weightDecay)
        for i in parameters.indices {
            let g = gradients[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            let update = (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
            parameters[i] -= lr * (update + wd * decay[i] * parameters[i])
        }
    }
}
