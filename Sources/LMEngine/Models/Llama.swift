import Foundation

/// The `llama` architecture (SmolLM2, TinyLlama, Llama 3, lmlab's tiny models).
///
/// Each layer:  x += Wo · attention(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x))
///              x += Wdown · (silu(Wgate·n(x)) ⊙ Wup·n(x))
/// with n = RMSNorm (its own weights per sub-layer). RoPE rotates adjacent
/// pairs (2i, 2i+1): the GGUF converter permuted q/k rows for that. Llama 3.1 and
/// later stretch RoPE's long wavelengths for a longer context: the converter wrote the
/// factors as `rope_freqs.weight`, each pair's angle divided by its factor.
public final class LlamaModel: DecoderModel, Architecture {
    public static let architectureName = "llama"

    private let layers: [LlamaLayerWeights]
    /// Llama 3's RoPE frequency factors, [ropeDimensions/2]; nil when the file has none.
    private let ropeFactors: UnsafeMutablePointer<Float>?

    public init(_ builder: ModelBuilder) throws {
        let c = try ModelConfig(gguf: builder.gguf)
        try RoPEScaling.requireNone(builder.gguf)
        layers = try (0..<c.layers).map { try LlamaLayerWeights(builder, layer: $0, c) }
        ropeFactors = try builder.optionalVector("rope_freqs.weight", count: c.ropeDimensions / 2)
        try super.init(builder, config: c)
    }

    public static func syntheticLayout(_ s: SyntheticModel.Shape) -> SyntheticLayout? { .llama(s) }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layers[layer], c = config

        // Attention sub-layer.
        projectQKV(w, n: n)
        ropeQueriesAndKeys(n: n, pos0: pos0, base: c.ropeBase, style: .adjacentPairs, freqFactors: ropeFactors)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1 / Float(c.headDim).squareRoot(), window: nil)
        attentionOutput(w.wo, n: n)

        // Feed-forward sub-layer.
        feedForwardSubLayer(.siluGated, w, n: n)
    }
}
