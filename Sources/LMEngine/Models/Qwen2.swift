import Foundation

/// The `qwen2` architecture (Qwen2, Qwen2.5; DeepSeek-R1's Qwen distillations).
///
/// Llama's layer plus three bias lines: q, k and v each get a bias after their
/// matmul. RoPE rotates (i, i + d/2) pairs ("NEOX"), with a large base (1,000,000).
public final class Qwen2Model: DecoderModel, Architecture {
    public static let architectureName = "qwen2"

    struct Layer {
        let base: LlamaLayerWeights
        let qBias, kBias, vBias: UnsafeMutablePointer<Float>

        init(_ b: ModelBuilder, _ l: Int, _ c: ModelConfig) throws {
            base = try LlamaLayerWeights(b, layer: l, c)
            let p = "blk.\(l)."
            qBias = try b.vector(p + "attn_q.bias", count: c.queryWidth)
            kBias = try b.vector(p + "attn_k.bias", count: c.kvWidth)
            vBias = try b.vector(p + "attn_v.bias", count: c.kvWidth)
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
        let w = layers[layer], c = config

        // Attention sub-layer: llama's, with a bias on q, k and v.
        projectQKV(w.base, n: n)
        compute.addBias(q, bias: w.qBias, rows: n, width: c.queryWidth)
        compute.addBias(k, bias: w.kBias, rows: n, width: c.kvWidth)
        compute.addBias(v, bias: w.vBias, rows: n, width: c.kvWidth)
        ropeQueriesAndKeys(n: n, pos0: pos0, base: c.ropeBase, style: .halfSplit)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1 / Float(c.headDim).squareRoot(), window: nil)
        attentionOutput(w.base.wo, n: n)

        // Feed-forward sub-layer.
        feedForwardSubLayer(.siluGated, w.base, n: n)
    }
}
