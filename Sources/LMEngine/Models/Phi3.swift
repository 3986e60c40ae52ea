import Foundation

/// The `phi3` architecture (Phi-3 and Phi-3.5 mini).
///
/// Llama's layer, with what the files fuse and what RoPE adds:
///   - q, k and v come from one fused matrix `attn_qkv` ([q | k | v] per token), or
///     from three when a converter split them;
///   - gate and up are one matrix `ffn_up` of 2 × feed-forward rows, gate first:
///     out = down · (silu(gate · x) ⊙ (up · x));
///   - RoPE rotates (i, i + rot/2) pairs ("NEOX") over the first `rope.dimension_count`
///     dimensions; LongRoPE models carry per-pair factors, the short ones for a context up
///     to `rope.scaling.original_context_length` and the long ones beyond, and an attention
///     factor that scales cos and sin;
///   - queries are scaled by 1/√head before attention (as llama.cpp does, in f32).
/// The files' sliding-window key is ignored, as llama.cpp does for phi3.
public final class Phi3Model: DecoderModel, Architecture {
    public static let architectureName = "phi3"

    struct Layer {
        let attnNorm, ffnNorm: UnsafeMutablePointer<Float>
        /// Fused [q | k | v] rows, or nil with separate wq/wk/wv.
        let wqkv: WeightSlot?
        let wq, wk, wv: WeightSlot?
        let wo, gateUp, down: WeightSlot

        init(_ b: ModelBuilder, _ l: Int, _ c: ModelConfig) throws {
            let p = "blk.\(l)."
            attnNorm = try b.vector(p + "attn_norm.weight", count: c.embedding)
            ffnNorm = try b.vector(p + "ffn_norm.weight", count: c.embedding)
            if b.has(p + "attn_qkv.weight") {
                wqkv = try b.matrix(p + "attn_qkv.weight", rows: c.queryWidth + 2 * c.kvWidth, cols: c.embedding)
                (wq, wk, wv) = (nil, nil, nil)
            } else {
                wqkv = nil
                wq = try b.matrix(p + "attn_q.weight", rows: c.queryWidth, cols: c.embedding)
                wk = try b.matrix(p + "attn_k.weight", rows: c.kvWidth, cols: c.embedding)
                wv = try b.matrix(p + "attn_v.weight", rows: c.kvWidth, cols: c.embedding)
            }
            wo = try b.matrix(p + "attn_output.weight", rows: c.embedding, cols: c.queryWidth)
            gateUp = try b.matrix(p + "ffn_up.weight", rows: 2 * c.feedForward, cols: c.embedding)
            down = try b.matrix(p + "ffn_down.weight", rows: c.embedding, cols: c.feedForward)
        }
    }
    private let layers: [Layer]
    /// LongRoPE's factors for the loaded context ([ropeDimensions/2]), nil for plain RoPE.
    private let ropeFactors: UnsafeMutablePointer<Float>?
    private let ropeMagnitude: Float

    public init(_ builder: ModelBuilder) throws {
        let gguf = builder.gguf
        let c = try ModelConfig(gguf: gguf)
        layers = try (0..<c.layers).map { try Layer(builder, $0, c) }
        let context = min(builder.contextLength ?? c.contextLength, c.contextLength)
        let original = (try? gguf.int("phi3.rope.scaling.original_context_length")) ?? c.contextLength
        let which = context > original ? "rope_factors_long.weight" : "rope_factors_short.weight"
        ropeFactors = try builder.optionalVector(which, count: c.ropeDimensions / 2)
        ropeMagnitude = (try? gguf.float("phi3.rope.scaling.attn_factor")) ?? 1
        try super.init(builder, config: c)
    }

    /// Fused [q|k|v] and [gate|up] matrices; full rotary, no LongRoPE factors.
    public static func syntheticLayout(_ s: SyntheticModel.Shape) -> SyntheticLayout? {
        SyntheticLayout(layer: [
            .norm("attn_norm", s.embedding),
            .matrix("attn_qkv", s.queryWidth + 2 * s.kvWidth, s.embedding), .matrix("attn_output", s.embedding, s.queryWidth),
            .norm("ffn_norm", s.embedding),
            .matrix("ffn_up", 2 * s.feedForward, s.embedding), .matrix("ffn_down", s.embedding, s.feedForward),
        ])
    }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layers[layer], c = config, hd = c.headDim, qw = c.queryWidth, kvw = c.kvWidth

        // Attention sub-layer. A fused [q | k | v] matrix is used as its three row ranges,
        // each straight into its buffer (the same dot products as one fused matmul).
        compute.normRows(x, weight: w.attnNorm, out: xn, rows: n, width: c.embedding, eps: c.rmsEpsilon)
        if let fused = w.wqkv?.matrix {
            compute.matmul(fused.rows(0..<qw), xn, q, n: n)
            compute.matmul(fused.rows(qw..<(qw + kvw)), xn, k, n: n)
            compute.matmul(fused.rows((qw + kvw)..<(qw + 2 * kvw)), xn, v, n: n)
        } else if let wq = w.wq, let wk = w.wk, let wv = w.wv {
            compute.matmul(wq, xn, q, n: n)
            compute.matmul(wk, xn, k, n: n)
            compute.matmul(wv, xn, v, n: n)
        }
        ropeQueriesAndKeys(n: n, pos0: pos0, base: c.ropeBase, style: .halfSplit, freqFactors: ropeFactors,
                           magnitude: ropeMagnitude)
        compute.scale(q, by: 1 / Float(hd).squareRoot(), count: n * qw)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1, window: nil)
        attentionOutput(w.wo, n: n)

        // Feed-forward sub-layer: `ffn_up` holds [gate | up], used as its two row halves.
        let ff = c.feedForward, gateUp = w.gateUp.matrix
        feedForwardSubLayer(.siluGated, norm: w.ffnNorm, gate: gateUp.rows(0..<ff), up: gateUp.rows(ff..<(2 * ff)),
                            down: w.down.matrix, n: n)
    }
}
