import Foundation

/// The `gemma3` architecture (Gemma-3-270M and its larger siblings).
///
/// What differs from llama, each visible below:
///   - the token embedding is multiplied by √d_model before the first layer;
///   - queries and keys get their own RMSNorm per head (head size 256, so the
///     query width 4×256 is not d_model);
///   - each sub-layer's output is normed again (post-attention, post-FFN norms)
///     before it is added to the residual stream;
///   - the FFN gate uses GELU (tanh approximation), not SiLU;
///   - RoPE rotates (i, i + d/2) pairs ("NEOX" half-split);
///   - five of every six layers attend only to a sliding window of recent keys
///     (query_pos − key_pos < window) with RoPE base 10,000; every sixth layer
///     (5, 11, 17 for 18 layers) attends to everything with the metadata's base.
/// The GGUF norm weights already hold 1 + w, so RMSNorm multiplies by them as stored.
public final class Gemma3Model: DecoderModel {
    struct Layer {
        let attnNorm, qNorm, kNorm, postAttnNorm, ffnNorm, postFFNNorm: UnsafeMutablePointer<Float>
        let wq, wk, wv, wo, gate, up, down: WeightSlot
        /// nil on global layers.
        let window: Int?
        let ropeBase: Float
    }
    private var layerWeights: [Layer] = []
    public let slidingWindow: Int
    /// Layer l is global when l % pattern == pattern − 1.
    public let globalEvery: Int
    /// RoPE base on sliding-window layers; llama.cpp fixes it at 10,000 (not in the metadata).
    public static let localRopeBase: Float = 10_000

    public init(gguf: GGUFFile, tokenizer: Tokenizer, contextLength: Int? = nil, threads: Int = 2) throws {
        let c = try ModelConfig(gguf: gguf)
        slidingWindow = (try? gguf.int("gemma3.attention.sliding_window")) ?? 512
        globalEvery = (try? gguf.int("gemma3.attention.sliding_window_pattern")) ?? 6
        guard slidingWindow > 0, globalEvery > 0 else { throw ModelError.badConfig("sliding window \(slidingWindow)") }
        try super.init(gguf: gguf, config: c, tokenizer: tokenizer,
                       contextLength: min(contextLength ?? c.contextLength, c.contextLength), threads: threads)
        for l in 0..<c.layers {
            let p = "blk.\(l)."
            func m(_ name: String, _ rows: Int, _ cols: Int) throws -> WeightSlot {
                try slot(p + name + ".weight", rows: rows, cols: cols)
            }
            func norm(_ name: String, _ count: Int) throws -> UnsafeMutablePointer<Float> {
                own(try DecoderModel.vector(gguf, p + name + ".weight", count: count))
            }
            let global = isGlobal(l)
            layerWeights.append(Layer(
                attnNorm: try norm("attn_norm", c.embedding),
                qNorm: try norm("attn_q_norm", c.headDim),
                kNorm: try norm("attn_k_norm", c.headDim),
                postAttnNorm: try norm("post_attention_norm", c.embedding),
                ffnNorm: try norm("ffn_norm", c.embedding),
                postFFNNorm: try norm("post_ffw_norm", c.embedding),
                wq: try m("attn_q", c.queryWidth, c.embedding),
                wk: try m("attn_k", c.kvWidth, c.embedding),
                wv: try m("attn_v", c.kvWidth, c.embedding),
                wo: try m("attn_output", c.embedding, c.queryWidth),
                gate: try m("ffn_gate", c.feedForward, c.embedding),
                up: try m("ffn_up", c.feedForward, c.embedding),
                down: try m("ffn_down", c.embedding, c.feedForward),
                window: global ? nil : slidingWindow,
                ropeBase: global ? c.ropeBase : Gemma3Model.localRopeBase))
        }
    }

    /// Whether layer l attends to the whole context (the others use the sliding window).
    public func isGlobal(_ layer: Int) -> Bool { layer % globalEvery == globalEvery - 1 }

    public override func attentionWindow(layer: Int) -> Int? { isGlobal(layer) ? nil : slidingWindow }

    public override func embed(_ tokens: UnsafeBufferPointer<Int32>) {
        super.embed(tokens)
        let scale = Float(config.embedding).squareRoot()
        for i in 0..<(tokens.count * config.embedding) { x[i] *= scale }
    }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layerWeights[layer]
        let c = config
        let d = c.embedding, hd = c.headDim, eps = c.rmsEpsilon, mode = compute.mode

        // Attention sub-layer.
        for t in 0..<n { rmsNorm(x + t * d, weight: w.attnNorm, out: xn + t * d, count: d, eps: eps, mode: mode) }
        compute.matmul(w.wq, xn, q, n: n)
        compute.matmul(w.wk, xn, k, n: n)
        compute.matmul(w.wv, xn, v, n: n)
        // Per-head RMSNorm of queries and keys, then RoPE (half-split) at the layer's base.
        for h in 0..<(n * c.heads) { rmsNorm(q + h * hd, weight: w.qNorm, out: q + h * hd, count: hd, eps: eps, mode: mode) }
        for h in 0..<(n * c.kvHeads) { rmsNorm(k + h * hd, weight: w.kNorm, out: k + h * hd, count: hd, eps: eps, mode: mode) }
        for t in 0..<n {
            applyRoPE(q + t * c.queryWidth, heads: c.heads, headDim: hd, pos: pos0 + t,
                      base: w.ropeBase, style: .halfSplit, mode: mode)
            applyRoPE(k + t * c.kvWidth, heads: c.kvHeads, headDim: hd, pos: pos0 + t,
                      base: w.ropeBase, style: .halfSplit, mode: mode)
        }
        storeKeysAndValues(layer: layer, n: n, pos0: pos0)
        // llama.cpp scales the queries (a separate op, in f32) and attends with scale 1;
        // the same here, so the f16 rounding of q inside attention sees the same values.
        let queryScale = 1 / Float(hd).squareRoot()
        for i in 0..<(n * c.queryWidth) { q[i] *= queryScale }
        attend(layer: layer, n: n, pos0: pos0, scale: 1, window: w.window)
        compute.matmul(w.wo, attn, xn, n: n)
        for t in 0..<n { rmsNorm(xn + t * d, weight: w.postAttnNorm, out: xn + t * d, count: d, eps: eps, mode: mode) }
        addInPlace(x, xn, count: n * d)

        // Feed-forward sub-layer.
        for t in 0..<n { rmsNorm(x + t * d, weight: w.ffnNorm, out: xn + t * d, count: d, eps: eps, mode: mode) }
        compute.matmul(w.gate, xn, gate, n: n)
        compute.matmul(w.up, xn, up, n: n)
        geluTanhGate(gate, up: up, count: n * c.feedForward, mode: mode)
        compute.matmul(w.down, gate, xn, n: n)
        for t in 0..<n { rmsNorm(xn + t * d, weight: w.postFFNNorm, out: xn + t * d, count: d, eps: eps, mode: mode) }
        addInPlace(x, xn, count: n * d)
    }
}
