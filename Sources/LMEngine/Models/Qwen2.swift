import Foundation

/// The `qwen2` architecture (Qwen2, Qwen2.5; DeepSeek-R1's Qwen distillations).
///
/// Llama's layer plus three bias lines: q, k and v each get a bias after their
/// matmul. RoPE rotates (i, i + d/2) pairs ("NEOX"), with a large base (1,000,000).
public final class Qwen2Model: DecoderModel, Architecture {
    public static let architectureName = "qwen2"

    struct Layer {
        let attnNorm, ffnNorm, qBias, kBias, vBias: UnsafeMutablePointer<Float>
        let wq, wk, wv, wo, gate, up, down: WeightSlot

        init(_ b: ModelBuilder, _ l: Int, _ c: ModelConfig) throws {
            let p = "blk.\(l)."
            attnNorm = try b.vector(p + "attn_norm.weight", count: c.embedding)
            ffnNorm = try b.vector(p + "ffn_norm.weight", count: c.embedding)
            qBias = try b.vector(p + "attn_q.bias", count: c.queryWidth)
            kBias = try b.vector(p + "attn_k.bias", count: c.kvWidth)
            vBias = try b.vector(p + "attn_v.bias", count: c.kvWidth)
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

    /// Llama's tensors and the three biases.
    public static func syntheticLayout(_ s: SyntheticModel.Shape) -> SyntheticLayout? {
        var layout = SyntheticLayout.llama(s)
        layout.layer += [.bias("attn_q", s.queryWidth), .bias("attn_k", s.kvWidth), .bias("attn_v", s.kvWidth)]
        return layout
    }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layers[layer], c = config, d = c.embedding

        // Attention sub-layer.
        compute.normRows(x, weight: w.attnNorm, out: xn, rows: n, width: d, eps: c.rmsEpsilon)
        compute.matmul(w.wq, xn, q, n: n)
        compute.matmul(w.wk, xn, k, n: n)
        compute.matmul(w.wv, xn, v, n: n)
        compute.addBias(q, bias: w.qBias, rows: n, width: c.queryWidth)
        compute.addBias(k, bias: w.kBias, rows: n, width: c.kvWidth)
        compute.addBias(v, bias: w.vBias, rows: n, width: c.kvWidth)
        compute.rope(q, rows: n, heads: c.heads, headDim: c.headDim, pos0: pos0, base: c.ropeBase, style: .halfSplit,
                     rotated: c.ropeDimensions)
        compute.rope(k, rows: n, heads: c.kvHeads, headDim: c.headDim, pos0: pos0, base: c.ropeBase, style: .halfSplit,
                     rotated: c.ropeDimensions)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1 / Float(c.headDim).squareRoot(), window: nil)
        compute.matmul(w.wo, attn, xn, n: n)
        compute.addResidual(x, xn, count: n * d)

        // Feed-forward sub-layer.
        compute.normRows(x, weight: w.ffnNorm, out: xn, rows: n, width: d, eps: c.rmsEpsilon)
        feedForward(.siluGated, gate: w.gate, up: w.up, down: w.down, input: xn, out: xn, n: n)
        compute.addResidual(x, xn, count: n * d)
    }
}
