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
public final class Gemma3Model: DecoderModel, Architecture {
    public static let architectureName = "gemma3"

    struct Layer {
        let base: LlamaLayerWeights
        let qNorm, kNorm, postAttnNorm, postFFNNorm: UnsafeMutablePointer<Float>
        /// nil on global layers.
        let window: Int?
        let ropeBase: Float

        init(_ b: ModelBuilder, _ l: Int, _ c: ModelConfig, window: Int?, ropeBase: Float) throws {
            base = try LlamaLayerWeights(b, layer: l, c)
            let p = "blk.\(l)."
            qNorm = try b.vector(p + "attn_q_norm.weight", count: c.headDim)
            kNorm = try b.vector(p + "attn_k_norm.weight", count: c.headDim)
            postAttnNorm = try b.vector(p + "post_attention_norm.weight", count: c.embedding)
            postFFNNorm = try b.vector(p + "post_ffw_norm.weight", count: c.embedding)
            self.window = window
            self.ropeBase = ropeBase
        }
    }
    private let layers: [Layer]
    public let slidingWindow: Int
    /// Layer l is global when l % pattern == pattern − 1.
    public let globalEvery: Int
    /// RoPE base on sliding-window layers; llama.cpp fixes it at 10,000 (not in the metadata).
    public static let localRopeBase: Float = 10_000

    public init(_ builder: ModelBuilder) throws {
        let gguf = builder.gguf
        let c = try ModelConfig(gguf: gguf)
        let window = (try? gguf.int("gemma3.attention.sliding_window")) ?? 512
        let every = (try? gguf.int("gemma3.attention.sliding_window_pattern")) ?? 6
        guard window > 0, every > 0 else { throw ModelError.badConfig("sliding window \(window)") }
        slidingWindow = window
        globalEvery = every
        layers = try (0..<c.layers).map { l in
            let global = l % every == every - 1
            return try Layer(builder, l, c, window: global ? nil : window,
                             ropeBase: global ? c.ropeBase : Gemma3Model.localRopeBase)
        }
        try super.init(builder, config: c)
    }

    /// Whether layer l attends to the whole context (the others use the sliding window).
    public func isGlobal(_ layer: Int) -> Bool { layer % globalEvery == globalEvery - 1 }

    public override func attentionWindow(layer: Int) -> Int? { layers[layer].window }

    public override func embed(_ tokens: UnsafeBufferPointer<Int32>) {
        super.embed(tokens)
        compute.scale(x, by: Float(config.embedding).squareRoot(), count: tokens.count * config.embedding)
    }

    /// Llama's tensors, the per-head q/k norms and the two post-norms; a window of 512 every
    /// layer but each sixth.
    public static func syntheticLayout(_ s: SyntheticModel.Shape) -> SyntheticLayout? {
        var layout = SyntheticLayout.llama(s)
        layout.layer += [.norm("attn_q_norm", s.headDim), .norm("attn_k_norm", s.headDim),
                         .norm("post_attention_norm", s.embedding), .norm("post_ffw_norm", s.embedding)]
        layout.metadata = ["attention.sliding_window": .uint32(512), "attention.sliding_window_pattern": .uint32(6)]
        return layout
    }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layers[layer], c = config, hd = c.headDim

        // Attention sub-layer.
        projectQKV(w.base, n: n)
        // Per-head RMSNorm of queries and keys, then RoPE (half-split) at the layer's base.
        normQueriesAndKeys(qNorm: w.qNorm, kNorm: w.kNorm, n: n)
        ropeQueriesAndKeys(n: n, pos0: pos0, base: w.ropeBase, style: .halfSplit)
        // llama.cpp scales the queries (a separate op, in f32) and attends with scale 1;
        // the same here, so the f16 rounding of q inside attention sees the same values.
        compute.scale(q, by: 1 / Float(hd).squareRoot(), count: n * c.queryWidth)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1, window: w.window)
        attentionOutput(w.base.wo, n: n, postNorm: w.postAttnNorm)

        // Feed-forward sub-layer, its output normed again before the residual.
        feedForwardSubLayer(.geluTanhGated, w.base, n: n, postNorm: w.postFFNNorm)
    }
}
