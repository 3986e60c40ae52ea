/// The tensors of a llama-shaped layer, the part most architectures share: the two
/// RMSNorms, q/k/v/o, and the gated feed-forward's gate/up/down. An architecture's own
/// layer is this plus what it adds (qwen2's biases, qwen3's and gemma3's q/k norms, …).
/// Read through the builder (every shape checked); `syntheticTensors` is the same list
/// as `synth` writes it.
public struct LlamaLayerWeights {
    public let attnNorm, ffnNorm: UnsafeMutablePointer<Float>
    public let wq, wk, wv, wo, gate, up, down: WeightSlot

    public init(_ b: ModelBuilder, layer l: Int, _ c: ModelConfig) throws {
        let p = "blk.\(l)."
        attnNorm = try b.vector(p + "attn_norm.weight", count: c.embedding)
        ffnNorm = try b.vector(p + "ffn_norm.weight", count: c.embedding)
        wq = try b.matrix(p + "attn_q.weight", rows: c.queryWidth, cols: c.embedding)
        wk = try b.matrix(p + "attn_k.weight", rows: c.kvWidth, cols: c.embedding)
        wv = try b.matrix(p + "attn_v.weight", rows: c.kvWidth, cols: c.embedding)
        wo = try b.matrix(p + "attn_output.weight", rows: c.embedding, cols: c.queryWidth)
        gate = try b.matrix(p + "ffn_gate.weight", rows: c.feedForward, cols: c.embedding)
        up = try b.matrix(p + "ffn_up.weight", rows: c.feedForward, cols: c.embedding)
        down = try b.matrix(p + "ffn_down.weight", rows: c.embedding, cols: c.feedForward)
    }

    /// The same tensors as `synth` writes them for a random-weight file.
    public static func syntheticTensors(_ s: SyntheticModel.Shape) -> [SyntheticLayout.Tensor] {
        [.norm("attn_norm", s.embedding),
         .matrix("attn_q", s.queryWidth, s.embedding), .matrix("attn_k", s.kvWidth, s.embedding),
         .matrix("attn_v", s.kvWidth, s.embedding), .matrix("attn_output", s.embedding, s.queryWidth),
         .norm("ffn_norm", s.embedding),
         .matrix("ffn_gate", s.feedForward, s.embedding), .matrix("ffn_up", s.feedForward, s.embedding),
         .matrix("ffn_down", s.embedding, s.feedForward)]
    }
}

extension DecoderModel {
    /// The attention sub-layer's input: xn = RMSNorm(x) ⊙ attnNorm, then q, k, v = Wq·xn,
    /// Wk·xn, Wv·xn for the batch's n rows.
    public func projectQKV(_ w: LlamaLayerWeights, n: Int) {
        compute.normRows(x, weight: w.attnNorm, out: xn, rows: n, width: config.embedding, eps: config.rmsEpsilon)
        compute.matmul(w.wq, xn, q, n: n)
        compute.matmul(w.wk, xn, k, n: n)
        compute.matmul(w.wv, xn, v, n: n)
    }

    /// Per-head RMSNorm of the n tokens' queries and keys, one weight vector of head size
    /// each, shared by all heads (qwen3, gemma3).
    public func normQueriesAndKeys(qNorm: UnsafePointer<Float>, kNorm: UnsafePointer<Float>, n: Int) {
        let c = config
        compute.perHeadNorm(q, weight: qNorm, vectors: n * c.heads, headDim: c.headDim, eps: c.rmsEpsilon)
        compute.perHeadNorm(k, weight: kNorm, vectors: n * c.kvHeads, headDim: c.headDim, eps: c.rmsEpsilon)
    }

    /// RoPE on the n tokens' queries and keys at positions pos0..., the same rotation for
    /// both, turning the config's `ropeDimensions` of each head.
    public func ropeQueriesAndKeys(n: Int, pos0: Int, base: Float, style: RoPEStyle,
                                   freqFactors: UnsafePointer<Float>? = nil, magnitude: Float = 1) {
        let c = config
        compute.rope(q, rows: n, heads: c.heads, headDim: c.headDim, pos0: pos0, base: base, style: style,
                     rotated: c.ropeDimensions, freqFactors: freqFactors, magnitude: magnitude)
        compute.rope(k, rows: n, heads: c.kvHeads, headDim: c.headDim, pos0: pos0, base: base, style: style,
                     rotated: c.ropeDimensions, freqFactors: freqFactors, magnitude: magnitude)
    }

    /// The attention sub-layer's output: x += postNorm(Wo · attn), RMSNorm'd only when
    /// a post-norm is given (gemma).
    public func attentionOutput(_ wo: WeightSlot, n: Int, postNorm: UnsafePointer<Float>? = nil) {
        let d = config.embedding
        compute.matmul(wo, attn, xn, n: n)
        if let postNorm { compute.normRows(xn, weight: postNorm, out: xn, rows: n, width: d, eps: config.rmsEpsilon) }
        compute.addResidual(x, xn, count: n * d)
    }

    /// The feed-forward sub-layer: x += postNorm(FFN(RMSNorm(x) ⊙ ffnNorm)), the post-norm
    /// only when given (gemma).
    public func feedForwardSubLayer(_ kind: FeedForwardKind, _ w: LlamaLayerWeights, n: Int,
                                    postNorm: UnsafePointer<Float>? = nil) {
        feedForwardSubLayer(kind, norm: w.ffnNorm, gate: w.gate.matrix, up: w.up.matrix, down: w.down.matrix,
                            n: n, postNorm: postNorm)
    }

    /// The same with the norm and matrices given one by one (phi3's gate and up are two
    /// halves of one matrix).
    public func feedForwardSubLayer(_ kind: FeedForwardKind, norm: UnsafePointer<Float>, gate: WeightMatrix, up: WeightMatrix,
                                    down: WeightMatrix, n: Int, postNorm: UnsafePointer<Float>? = nil) {
        let d = config.embedding
        compute.normRows(x, weight: norm, out: xn, rows: n, width: d, eps: config.rmsEpsilon)
        feedForward(kind, gate: gate, up: up, down: down, input: xn, out: xn, n: n)
        if let postNorm { compute.normRows(xn, weight: postNorm, out: xn, rows: n, width: d, eps: config.rmsEpsilon) }
        compute.addResidual(x, xn, count: n * d)
    }
}
