/// The steps a transformer layer is written in, named, so each architecture's `block`
/// reads top to bottom like llama2.c's forward. Every step runs over a batch of `rows`
/// tokens stored token-major ([rows × width]) and picks the context's kernel mode, so
/// no architecture passes `mode:` around.
extension ComputeContext {
    /// out[t] = RMSNorm(x[t]) ⊙ weight, for each of `rows` rows of `width`. x may be out.
    public func normRows(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                         rows: Int, width: Int, eps: Float) {
        for t in 0..<rows {
            rmsNorm(x + t * width, weight: weight, out: out + t * width, count: width, eps: eps, mode: mode)
        }
    }

    /// RMSNorm of every head vector in place, one weight [headDim] shared by all heads
    /// (qwen3's and gemma3's q/k norms). v: [vectors × headDim] (rows × heads vectors).
    public func perHeadNorm(_ v: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>,
                            vectors: Int, headDim: Int, eps: Float) {
        normRows(v, weight: weight, out: v, rows: vectors, width: headDim, eps: eps)
    }

    /// Rotary position embedding in place: row t of v ([rows × heads × headDim]) is at position pos0 + t.
    /// `rotated`: how many leading dimensions of each head turn (nil: all); `freqFactors`
    /// ([rotated/2]): Llama 3's rope_freqs or LongRoPE's factors, dividing each pair's angle.
    public func rope(_ v: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, pos0: Int,
                     base: Float, style: RoPEStyle, rotated: Int? = nil, freqFactors: UnsafePointer<Float>? = nil,
                     magnitude: Float = 1) {
        for t in 0..<rows {
            applyRoPE(v + t * heads * headDim, heads: heads, headDim: headDim, pos: pos0 + t, base: base, style: style,
                      rotated: rotated, freqFactors: freqFactors, magnitude: magnitude, mode: mode)
        }
    }

    /// y[t] += bias for each of `rows` rows of `width` (qwen2's q/k/v biases).
    public func addBias(_ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, width: Int) {
        for t in 0..<rows {
            let row = y + t * width
            for i in 0..<width { row[i] += bias[i] }
        }
    }

    /// x[i] += y[i] for i in 0..<count: a residual connection.
    public func addResidual(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// v[i] *= factor for i in 0..<count.
    public func scale(_ v: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        for i in 0..<count { v[i] *= factor }
    }
}

/// The gated feed-forward's activation: out = down · (act(gate · x) ⊙ (up · x)).
public enum FeedForwardKind: Sendable {
    /// SiLU (llama, qwen, phi3).
    case siluGated
    /// GELU, tanh approximation (gemma).
    case geluTanhGated
}
