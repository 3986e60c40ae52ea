import Foundation

/// gate[i] = silu(gate[i]) · up[i], silu(v) = v / (1 + e^-v).   gate, up: [count].
/// The SwiGLU feed-forward of llama-style models.
///
/// One version only: the time goes to expf, which Swift cannot vectorize without a
/// hand-written polynomial (ggml has one; left for later), so a "fast" twin would be
/// the same loop.
public func siluGate(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let v = gate[i]
        gate[i] = v / (1 + expf(-v)) * up[i]
    }
}
