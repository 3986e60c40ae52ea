import Foundation

/// Which element pairs a rotary embedding rotates together.
public enum RoPEStyle: Sendable {
    /// llama GGUF (ggml "normal" mode): rotate (v[2i], v[2i+1]).
    case adjacentPairs
    /// NEOX / gemma: rotate (v[i], v[i + d/2]).
    case halfSplit
}

/// Rotates `heads` vectors of `headDim` in place for position `pos`. Only the first
/// `rotated` dimensions turn (partial rotary, phi-style; default all), the rest pass through:
/// theta_i = pos · base^(-2i/rotated) / factor_i for pair i in 0..<rotated/2, where the
/// optional `freqFactors` ([rotated/2], Llama 3's rope_freqs, LongRoPE's factors) slow
/// the low frequencies down, and `magnitude` (LongRoPE's attention factor, 1 elsewhere)
/// scales cos and sin.   v: [heads × headDim].
///
/// The fast version computes the angles as ggml does (theta starts at pos and is
/// multiplied by base^(-2/rotated) for each pair, all in float, divided by the factor),
/// once for all heads, and rotates with ggml's fused multiply-adds, so llama.cpp's
/// rounding is reproduced.
public func applyRoPE(_ v: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, pos: Int, base: Float, style: RoPEStyle,
                      rotated: Int? = nil, freqFactors: UnsafePointer<Float>? = nil, magnitude: Float = 1,
                      mode: KernelMode = .fast) {
    let rotated = rotated ?? headDim
    if mode == .reference {
        applyRoPEReference(v, heads: heads, headDim: headDim, pos: pos, base: base, style: style,
                           rotated: rotated, freqFactors: freqFactors, magnitude: magnitude)
        return
    }
    let pairs = rotated / 2
    // cos/sin per pair on the stack for typical head sizes (≤ 256); heap otherwise.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * pairs) { table in
        let thetaScale = powf(base, -2 / Float(rotated))
        var theta = Float(pos)
        for i in 0..<pairs {
            let angle = freqFactors.map { theta / $0[i] } ?? theta
            table[2 * i] = cosf(angle) * magnitude
            table[2 * i + 1] = sinf(angle) * magnitude
            theta *= thetaScale
        }
        for h in 0..<heads {
            let x = v + h * headDim
            for i in 0..<pairs {
                let (a, b) = style == .adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + pairs)
                let c = table[2 * i], s = table[2 * i + 1]
                let x0 = x[a], x1 = x[b]
                // GCC contracts ggml's x0·c − x1·s and x0·s + x1·c into one fma each,
                // the products x1·s and x0·s rounded first.
                x[a] = (-(x1 * s)).addingProduct(x0, c)
                x[b] = (x1 * c).addingProduct(x0, s)
            }
        }
    }
}

/// The plain loop straight from the formula, angles in double.
public func applyRoPEReference(_ v: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, pos: Int, base: Float, style: RoPEStyle,
                               rotated: Int? = nil, freqFactors: UnsafePointer<Float>? = nil, magnitude: Float = 1) {
    let rotated = rotated ?? headDim
    let pairs = rotated / 2
    for h in 0..<heads {
        let x = v + h * headDim
        for i in 0..<pairs {
            let factor = freqFactors.map { Double($0[i]) } ?? 1
            let theta = Double(pos) * pow(Double(base), -2 * Double(i) / Double(rotated)) / factor
            let c = Float(cos(theta)) * magnitude, s = Float(sin(theta)) * magnitude
            let a = style == .adjacentPairs ? 2 * i : i
            let b = style == .adjacentPairs ? 2 * i + 1 : i + pairs
            let x0 = x[a], x1 = x[b]
            x[a] = x0 * c - x1 * s
            x[b] = x0 * s + x1 * c
        }
    }
}
