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

    struct Layer {
        let attnNorm, ffnNorm: UnsafeMutablePointer<Float>
        let wq, wk, wv, wo, gate, up, down: WeightSlot

        init(_ b: ModelBuilder, _ l: Int, _ c: ModelConfig) throws {
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
    }
    private let layers: [Layer]
    /// Llama 3's RoPE frequency factors, [ropeDimensions/2]; nil when the file has none.
    private let ropeFactors: UnsafeMutablePointer<Float>?

    public init(_ builder: ModelBuilder) throws {
        let c = try ModelConfig(gguf: builder.gguf)
        try RoPEScaling.requireNone(builder.gguf)
        layers = try (0..<c.layers).map { try Layer(builder, $0, c) }
        ropeFactors = try builder.optionalVector("rope_freqs.weight", count: c.ropeDimensions / 2)
        try super.init(builder, config: c)
    }

    public static func syntheticLayout(_ s: SyntheticModel.Shape) -> SyntheticLayout? { .llama(s) }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layers[layer], c = config, d = c.embedding

        // Attention sub-layer.
        compute.normRows(x, weight: w.attnNorm, out: xn, rows: n, width: d, eps: c.rmsEpsilon)
        compute.matmul(w.wq, xn, q, n: n)
        compute.matmul(w.wk, xn, k, n: n)
        compute.matmul(w.wv, xn, v, n: n)
        compute.rope(q, rows: n, heads: c.heads, headDim: c.headDim, pos0: pos0, base: c.ropeBase, style: .adjacentPairs,
                     rotated: c.ropeDimensions, freqFactors: ropeFactors)
        compute.rope(k, rows: n, heads: c.kvHeads, headDim: c.headDim, pos0: pos0, base: c.ropeBase, style: .adjacentPairs,
                     rotated: c.ropeDimensions, freqFactors: ropeFactors)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1 / Float(c.headDim).squareRoot(), window: nil)
        compute.matmul(w.wo, attn, xn, n: n)
        compute.addResidual(x, xn, count: n * d)

        // Feed-forward sub-layer.
        compute.normRows(x, weight: w.ffnNorm, out: xn, rows: n, width: d, eps: c.rmsEpsilon)
        feedForward(.siluGated, gate: w.gate, up: w.up, down: w.down, input: xn, out: xn, n: n)
        compute.addResidual(x, xn, count: n * d)
    }
}
