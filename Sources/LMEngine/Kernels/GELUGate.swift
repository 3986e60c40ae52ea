import Foundation

/// gate[i] = gelu(gate[i]) · up[i] with ggml's tanh approximation
/// gelu(v) = 0.5·v·(1 + tanh(√(2/π)·v·(1 + 0.044715·v²))).   gate, up: [count].
/// The GeGLU feed-forward of gemma. One version only, for the same reason as siluGate.
/// (ggml's CPU backend may read gelu from an f16 lookup table; this computes it directly.)
public func geluTanhGate(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    let sqrt2OverPi: Float = 0.79788456080286535587989211986876
    let coefA: Float = 0.044715
    for i in 0..<count {
        let v = gate[i]
        gate[i] = 0.5 * v * (1 + tanhf(sqrt2OverPi * v * (1 + coefA * v * v))) * up[i]
    }
}
