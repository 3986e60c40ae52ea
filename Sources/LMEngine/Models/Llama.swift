import Foundation

/// The `llama` architecture (SmolLM2, TinyLlama, Llama 3, lmlab's tiny models).
///
/// Each layer:  x += Wo · attention(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x))
///              x += Wdown · (silu(Wgate·n(x)) ⊙ Wup·n(x))
/// with n = RMSNorm (its own weights per sub-layer). RoPE rotates adjacent
/// pairs (2i, 2i+1): the GGUF converter permuted q/k rows for that.
public final class LlamaModel: DecoderModel {
    struct Layer {
        let attnNorm, ffnNorm: UnsafeMutablePointer<Float>
        let wq, wk, wv, wo, gate, up, down: WeightSlot
    }
    private var layerWeights: [Layer] = []

    public init(gguf: GGUFFile, tokenizer: Tokenizer, contextLength: Int? = nil, threads: Int = 2) throws {
        let c = try ModelConfig(gguf: gguf)
        try super.init(gguf: gguf, config: c, tokenizer: tokenizer,
                       contextLength: min(contextLength ?? c.contextLength, c.contextLength), threads: threads)
        for l in 0..<c.layers {
            let p = "blk.\(l)."
            func m(_ name: String, _ rows: Int, _ cols: Int) throws -> WeightSlot {
                try slot(p + name + ".weight", rows: rows, cols: cols)
            }
            layerWeights.append(Layer(
                attnNorm: own(try DecoderModel.vector(gguf, p + "attn_norm.weight", count: c.embedding)),
                ffnNorm: own(try DecoderModel.vector(gguf, p + "ffn_norm.weight", count: c.embedding)),
                wq: try m("attn_q", c.queryWidth, c.embedding),
                wk: try m("attn_k", c.kvWidth, c.embedding),
                wv: try m("attn_v", c.kvWidth, c.embedding),
                wo: try m("attn_output", c.embedding, c.queryWidth),
                gate: try m("ffn_gate", c.feedForward, c.embedding),
                up: try m("ffn_up", c.feedForward, c.embedding),
                down: try m("ffn_down", c.embedding, c.feedForward)))
        }
    }

    public override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layerWeights[layer]
        let c = config
        let d = c.embedding, eps = c.rmsEpsilon, mode = compute.mode

        // Attention sub-layer.
        for t in 0..<n { rmsNorm(x + t * d, weight: w.attnNorm, out: xn + t * d, count: d, eps: eps, mode: mode) }
        compute.matmul(w.wq, xn, q, n: n)
        compute.matmul(w.wk, xn, k, n: n)
        compute.matmul(w.wv, xn, v, n: n)
        for t in 0..<n {
            applyRoPE(q + t * c.queryWidth, heads: c.heads, headDim: c.headDim, pos: pos0 + t,
                      base: c.ropeBase, style: .adjacentPairs, mode: mode)
            applyRoPE(k + t * c.kvWidth, heads: c.kvHeads, headDim: c.headDim, pos: pos0 + t,
                      base: c.ropeBase, style: .adjacentPairs, mode: mode)
        }
        storeKeysAndValues(layer: layer, n: n, pos0: pos0)
        attend(layer: layer, n: n, pos0: pos0, scale: 1 / Float(c.headDim).squareRoot(), window: nil)
        compute.matmul(w.wo, attn, xn, n: n)
        addInPlace(x, xn, count: n * d)

        // Feed-forward sub-layer.
        for t in 0..<n { rmsNorm(x + t * d, weight: w.ffnNorm, out: xn + t * d, count: d, eps: eps, mode: mode) }
        compute.matmul(w.gate, xn, gate, n: n)
        compute.matmul(w.up, xn, up, n: n)
        siluGate(gate, up: up, count: n * c.feedForward, mode: mode)
        compute.matmul(w.down, gate, xn, n: n)
        addInPlace(x, xn, count: n * d)
    }
}
