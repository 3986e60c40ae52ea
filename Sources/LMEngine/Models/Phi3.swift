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
    /// The fused projections' outputs: [maxBatch × (q + 2 kv)] and [maxBatch × 2 feed-forward].
    private let qkv, gateUp: UnsafeMutablePointer<Float>

    public init(_ builder: ModelBuilder) throws {
        let gguf = builder.gguf
        let c = try ModelConfig(gguf: gguf)
        layers = try (0..<c.layers).map { try Layer(builder, $0, c) }
        let context = min(builder.contextLength ?? c.contextLength, c.contextLength)
        let original = (try? gguf.int("phi3.rope.scaling.original_context_length")) ?? c.contextLength
        let which = context > original ? "rope_factors_long.weight" : "rope_factors_short.weight"
        ropeFactors = try builder.optionalVector(which, count: c.ropeDimensions / 2)
        ropeMagnitude = (try? gguf.float("phi3.rope.scaling.attn_factor")) ?? 1
        qkv = builder.buffer(DecoderModel.batchCapacity * (c.queryWidth + 2 * c.kvWidth))
        gateUp = builder.buffer(DecoderModel.batchCapacity * 2 * c.feedForward)
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
        let w = layers[layer], c = config, d = c.embedding, hd = c.headDim

        // Attention sub-layer.
        compute.normRows(x, weight: w.attnNorm, out: xn, rows: n, width: d, eps: c.rmsEpsilon)
        if let wqkv = w.wqkv {
            let width = c.queryWidth + 2 * c.kvWidth
            compute.matmul(wqkv, xn, qkv, n: n)
            for t in 0..<n {   // row t: [q | k | v]
                let row = qkv + t * width
                (q + t * c.queryWidth).update(from: row, count: c.queryWidth)
                (k + t * c.kvWidth).update(from: row + c.queryWidth, count: c.kvWidth)
                (v + t * c.kvWidth).update(from: row + c.queryWidth + c.kvWidth, count: c.kvWidth)
            }
        } else if let wq = w.wq, let wk = w.wk, let wv = w.wv {
            compute.matmul(wq, xn, q, n: n)
            compute.matmul(wk, xn, k, n: n)
            compute.matmul(wv, xn, v, n: n)
        }
        compute.rope(q, rows: n, heads: c.heads, headDim: hd, pos0: pos0, base: c.ropeBase, style: .halfSplit,
                     rotated: c.ropeDimensions, freqFactors: ropeFactors, magnitude: ropeMagnitude)
        compute.rope(k, rows: n, heads: c.kvHeads, headDim: hd, pos0: pos0, base: c.ropeBase, style: .halfSplit,
                     rotated: c.ropeDimensions, freqFactors: ropeFactors, magnitude: ropeMagnitude)
        compute.scale(q, by: 1 / Float(hd).squareRoot(), count: n * c.queryWidth)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1, window: nil)
        compute.matmul(w.wo, attn, xn, n: n)
        compute.addResidual(x, xn, count: n * d)

        // Feed-forward sub-layer: one matmul gives [gate | up] per token.
        let ff = c.feedForward
        compute.normRows(x, weight: w.ffnNorm, out: xn, rows: n, width: d, eps: c.rmsEpsilon)
        compute.matmul(w.gateUp, xn, gateUp, n: n)
        for t in 0..<n {
            (gate + t * ff).update(from: gateUp + t * 2 * ff, count: ff)
            (up + t * ff).update(from: gateUp + t * 2 * ff + ff, count: ff)
        }
        siluGate(gate, up: up, count: n * ff, mode: compute.mode)
        compute.matmul(w.down, gate, xn, n: n)
        compute.addResidual(x, xn, count: n * d)
    }
}
