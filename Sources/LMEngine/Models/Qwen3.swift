import Foundation

/// The `qwen3` architecture (Qwen3 dense models, 0.6B to 32B).
///
/// Llama's layer plus a per-head RMSNorm of the queries and keys before RoPE (one
/// weight vector of head size each, shared by all heads); no biases. The head size
/// comes from `attention.key_length` (128), so heads × head size need not be d_model.
/// RoPE rotates (i, i + d/2) pairs ("NEOX").
public final class Qwen3Model: DecoderModel, Architecture {
    public static let architectureName = "qwen3"

    struct Layer {
        let attnNorm, qNorm, kNorm, ffnNorm: UnsafeMutablePointer<Float>
        let wq, wk, wv, wo, gate, up, down: WeightSlot

        init(_ b: ModelBuilder, _ l: Int, _ c: ModelConfig) throws {
            let p = "blk.\(l)."
            attnNorm = try b.vector(p + "attn_norm.weight", count: c.embedding)
            qNorm = try b.vector(p + "attn_q_norm.weight", count: c.headDim)
            kNorm = try b.vector(p + "attn_k_norm.weight", count: c.headDim)
            ffnNorm = try b.vector(p + "ffn_norm.weight", count: c.embedding)
            wq = try b.matrix(p + "attn_q.weight", rows: c.queryWidth, cols: c.embedding)
            wk = try b.matrix(p + "attn_k.weight", rows: c.kvWidth, cols: c.embedding)
            wv = try b.matrix(p + "attn_v.weight", rows: c.kvWidth, cols: c.embedding)
            wo = try b.matrix(p + "attn_output.weight", rows: c.embedding, cols: c.queryWidth)
            gate = try b.matrix(p + "ffn_gate.weight", rows: c.feedForward, cols: c.embedding)
            up = try b.matrix(p + "ffn_up.weight", rows: c.feedForward, cols: c.embedding)
            down = try b.matrix(p + "ffn_down.weight", rows: c.embedding, cols: c.feedForward)
        }
    }
    private let layers: [Layer]

    public init(_ builder: ModelBuilder) throws {
        let c = try ModelConfig(gguf: builder.gguf)
        try RoPEScaling.requireNone(builder.gguf)
        layers = try (0..<c.layers).map { try Layer(builder, $0, c) }
        try super.init(builder, config: c)
    }

    /// Llama's tensors and the per-head q/k norms.
    public static func syntheticLayout(_ s: SyntheticModel.Shape) -> SyntheticLayout? {
        var layout = SyntheticLayout.llama(s)
        layout.layer += [.norm("attn_q_norm", s.headDim), .norm("attn_k_norm", s.headDim)]
        return layout
    }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layers[layer], c = config, d = c.embedding, hd = c.headDim

        // Attention sub-layer.
        compute.normRows(x, weight: w.attnNorm, out: xn, rows: n, width: d, eps: c.rmsEpsilon)
        compute.matmul(w.wq, xn, q, n: n)
        compute.matmul(w.wk, xn, k, n: n)
        compute.matmul(w.wv, xn, v, n: n)
        compute.perHeadNorm(q, weight: w.qNorm, vectors: n * c.heads, headDim: hd, eps: c.rmsEpsilon)
        compute.perHeadNorm(k, weight: w.kNorm, vectors: n * c.kvHeads, headDim: hd, eps: c.rmsEpsilon)
        compute.rope(q, rows: n, heads: c.heads, headDim: hd, pos0: pos0, base: c.ropeBase, style: .halfSplit,
                     rotated: c.ropeDimensions)
        compute.rope(k, rows: n, heads: c.kvHeads, headDim: hd, pos0: pos0, base: c.ropeBase, style: .halfSplit,
                     rotated: c.ropeDimensions)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1 / Float(hd).squareRoot(), window: nil)
        compute.matmul(w.wo, attn, xn, n: n)
        compute.addResidual(x, xn, count: n * d)

        // Feed-forward sub-layer.
        compute.normRows(x, weight: w.ffnNorm, out: xn, rows: n, width: d, eps: c.rmsEpsilon)
        feedForward(.siluGated, gate: w.gate, up: w.up, down: w.down, input: xn, out: xn, n: n)
        compute.addResidual(x, xn, count: n * d)
    }
}
