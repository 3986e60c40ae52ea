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
        let base: LlamaLayerWeights
        let qNorm, kNorm: UnsafeMutablePointer<Float>

        init(_ b: ModelBuilder, _ l: Int, _ c: ModelConfig) throws {
            base = try LlamaLayerWeights(b, layer: l, c)
            qNorm = try b.vector("blk.\(l).attn_q_norm.weight", count: c.headDim)
            kNorm = try b.vector("blk.\(l).attn_k_norm.weight", count: c.headDim)
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
        let w = layers[layer], c = config, hd = c.headDim

        // Attention sub-layer: llama's, with q and k normed per head before RoPE.
        projectQKV(w.base, n: n)
        normQueriesAndKeys(qNorm: w.qNorm, kNorm: w.kNorm, n: n)
        ropeQueriesAndKeys(n: n, pos0: pos0, base: c.ropeBase, style: .halfSplit)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1 / Float(hd).squareRoot(), window: nil)
        attentionOutput(w.base.wo, n: n)

        // Feed-forward sub-layer.
        feedForwardSubLayer(.siluGated, w.base, n: n)
    }
}
