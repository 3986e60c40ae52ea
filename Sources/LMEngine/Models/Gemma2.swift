import Foundation

/// The `gemma2` architecture (Gemma 2 2B, 9B, 27B; Ollama's `gemma2:2b`).
///
/// Gemma 3's older sibling: the same √d_model embedding scale, post-attention and post-FFN
/// norms, GELU (tanh) gate and half-split ("NEOX") RoPE, with what differs visible below:
///   - no per-head q/k norms;
///   - attention scores are soft-capped, s → cap·tanh(s/cap) (`attn_logit_softcapping`,
///     50), and so are the final logits (`final_logit_softcapping`, 30), so no logit
///     leaves (−30, 30);
///   - every other layer (0, 2, 4, …) attends only to a sliding window of recent keys
///     (query_pos − key_pos < `attention.sliding_window`, 4096); the odd ones see
///     everything. One RoPE base for all layers unless the file gives `rope.freq_base_swa`.
/// The GGUF norm weights already hold 1 + w, so RMSNorm multiplies by them as stored.
public final class Gemma2Model: DecoderModel, Architecture {
    public static let architectureName = "gemma2"

    struct Layer {
        let base: LlamaLayerWeights
        let postAttnNorm, postFFNNorm: UnsafeMutablePointer<Float>
        /// nil on global layers.
        let window: Int?
        let ropeBase: Float

        init(_ b: ModelBuilder, _ l: Int, _ c: ModelConfig, window: Int?, ropeBase: Float) throws {
            base = try LlamaLayerWeights(b, layer: l, c)
            postAttnNorm = try b.vector("blk.\(l).post_attention_norm.weight", count: c.embedding)
            postFFNNorm = try b.vector("blk.\(l).post_ffw_norm.weight", count: c.embedding)
            self.window = window
            self.ropeBase = ropeBase
        }
    }
    private let layers: [Layer]
    public let slidingWindow: Int
    /// Layer l uses the window when l % pattern < pattern − 1 (llama.cpp's rule; 2 for Gemma 2).
    public let windowPattern: Int
    public let attentionSoftCap: Float
    public let finalSoftCap: Float
    /// What the queries are multiplied by before attention: 1/√head size, except that llama.cpp
    /// takes 1/√(d_model / heads) for the 27B model (46 layers; its query_pre_attn_scalar of 144).
    public let queryScale: Float

    public init(_ builder: ModelBuilder) throws {
        let gguf = builder.gguf
        let c = try ModelConfig(gguf: gguf)
        try RoPEScaling.requireNone(gguf)
        let window = (try? gguf.int("gemma2.attention.sliding_window")) ?? 4096
        // llama.cpp also reads this key as a per-layer array; such a file is refused here, not misread.
        let patternKey = "gemma2.attention.sliding_window_pattern"
        let pattern = gguf.metadata[patternKey] == nil ? 2 : try gguf.int(patternKey)
        attentionSoftCap = (try? gguf.float("gemma2.attn_logit_softcapping")) ?? 50
        finalSoftCap = (try? gguf.float("gemma2.final_logit_softcapping")) ?? 30
        guard window > 0, pattern > 0, attentionSoftCap > 0, finalSoftCap > 0 else {
            throw ModelError.badConfig("sliding window \(window) every \(pattern), soft caps \(attentionSoftCap), \(finalSoftCap)")
        }
        slidingWindow = window
        windowPattern = pattern
        queryScale = 1 / Float(c.layers == 46 ? c.embedding / c.heads : c.headDim).squareRoot()
        let localBase = (try? gguf.float("gemma2.rope.freq_base_swa")) ?? c.ropeBase
        layers = try (0..<c.layers).map { l in
            let local = l % pattern < pattern - 1
            return try Layer(builder, l, c, window: local ? window : nil, ropeBase: local ? localBase : c.ropeBase)
        }
        try super.init(builder, config: c)
    }

    public override func attentionWindow(layer: Int) -> Int? { layers[layer].window }

    public override func embed(_ tokens: UnsafeBufferPointer<Int32>) {
        super.embed(tokens)
        compute.scale(x, by: Float(config.embedding).squareRoot(), count: tokens.count * config.embedding)
    }

    /// logits = cap·tanh(logits/cap), as llama.cpp writes it: times 1/cap, tanh, times cap.
    public override func head(rows: Int) {
        super.head(rows: rows)
        let cap = finalSoftCap, inverse = 1 / finalSoftCap
        for i in 0..<(rows * config.vocabulary) { logits[i] = cap * tanhf(logits[i] * inverse) }
    }

    /// Llama's tensors and the two post-norms; a window of 32 on even layers, so prompts of a
    /// few dozen tokens already reach past it.
    public static func syntheticLayout(_ s: SyntheticModel.Shape) -> SyntheticLayout? {
        var layout = SyntheticLayout.llama(s)
        layout.layer += [.norm("post_attention_norm", s.embedding), .norm("post_ffw_norm", s.embedding)]
        layout.metadata = ["attention.sliding_window": .uint32(32),
                           "attn_logit_softcapping": .float32(50), "final_logit_softcapping": .float32(30)]
        return layout
    }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layers[layer], c = config

        // Attention sub-layer: RoPE (half-split), then the queries scaled in f32 as llama.cpp
        // does (a separate op; attention itself scales by 1), scores soft-capped.
        projectQKV(w.base, n: n)
        ropeQueriesAndKeys(n: n, pos0: pos0, base: w.ropeBase, style: .halfSplit)
        compute.scale(q, by: queryScale, count: n * c.queryWidth)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1, softCap: attentionSoftCap, window: w.window)
        attentionOutput(w.base.wo, n: n, postNorm: w.postAttnNorm)

        // Feed-forward sub-layer, its output normed again before the residual.
        feedForwardSubLayer(.geluTanhGated, w.base, n: n, postNorm: w.postFFNNorm)
    }
}
