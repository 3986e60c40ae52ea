import Foundation
import XCTest
import LMEngine

/// The sliding window, on a small synthetic gemma3 model written by the test:
/// the engine's Gemma3Model against a plain reference forward that builds the
/// causal + window mask explicitly, with a prompt longer than the window.
final class Gemma3WindowTests: XCTestCase {
    // 3 layers, layer 2 global (pattern 3), window 4, 14-token prompt.
    let d = 16, heads = 2, kvHeads = 1, hd = 8, ffn = 24, vocab = 20, layers = 3, window = 4, pattern = 3
    let globalBase: Float = 1_000_000, localBase: Float = 10_000, eps: Float = 1e-6

    /// Deterministic weights: name → [rows × cols] floats (rows = out, cols = in).
    var weights: [String: [Float]] = [:]

    func randomValues(_ count: Int, seed: UInt64, scale: Float, offset: Float = 0) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in offset + scale * (g.nextUnit() * 2 - 1) }
    }

    func writeModel() throws -> URL {
        var w = GGUFWriter()
        w.set("general.architecture", .string("gemma3"))
        w.set("general.name", .string("window-test"))
        w.set("gemma3.block_count", .uint32(UInt32(layers)))
        w.set("gemma3.embedding_length", .uint32(UInt32(d)))
        w.set("gemma3.feed_forward_length", .uint32(UInt32(ffn)))
        w.set("gemma3.context_length", .uint32(64))
        w.set("gemma3.attention.head_count", .uint32(UInt32(heads)))
        w.set("gemma3.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("gemma3.attention.key_length", .uint32(UInt32(hd)))
        w.set("gemma3.attention.value_length", .uint32(UInt32(hd)))
        w.set("gemma3.attention.layer_norm_rms_epsilon", .float32(eps))
        w.set("gemma3.attention.sliding_window", .uint32(UInt32(window)))
        w.set("gemma3.attention.sliding_window_pattern", .uint32(UInt32(pattern)))
        w.set("gemma3.rope.freq_base", .float32(globalBase))
        var seed: UInt64 = 1
        func add(_ name: String, rows: Int, cols: Int, norm: Bool = false) throws {
            seed += 1
            let values = norm ? randomValues(rows * cols, seed: seed, scale: 0.3, offset: 1)
                              : randomValues(rows * cols, seed: seed, scale: 0.5)
            weights[name] = values
            let bytes = values.withUnsafeBytes { Array($0) }
            try w.addTensor(name: name, dims: rows == 1 ? [cols] : [cols, rows], type: .f32, bytes: bytes)
        }
        try add("token_embd.weight", rows: vocab, cols: d)
        try add("output_norm.weight", rows: 1, cols: d, norm: true)
        for l in 0..<layers {
            let p = "blk.\(l)."
            for n in ["attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"] { try add(p + n + ".weight", rows: 1, cols: d, norm: true) }
            try add(p + "attn_q_norm.weight", rows: 1, cols: hd, norm: true)
            try add(p + "attn_k_norm.weight", rows: 1, cols: hd, norm: true)
            try add(p + "attn_q.weight", rows: heads * hd, cols: d)
            try add(p + "attn_k.weight", rows: kvHeads * hd, cols: d)
            try add(p + "attn_v.weight", rows: kvHeads * hd, cols: d)
            try add(p + "attn_output.weight", rows: d, cols: heads * hd)
            try add(p + "ffn_gate.weight", rows: ffn, cols: d)
            try add(p + "ffn_up.weight", rows: ffn, cols: d)
            try add(p + "ffn_down.weight", rows: d, cols: ffn)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gemma3-window-\(getpid()).gguf")
        try Data(w.encoded()).write(to: url)
        return url
    }

    // MARK: the plain reference

    func matvec(_ name: String, _ x: [Float], rows: Int) -> [Float] {
        let m = weights[name]!, cols = x.count
        return (0..<rows).map { r in (0..<cols).reduce(Float(0)) { $0 + m[r * cols + $1] * x[$1] } }
    }
    func norm(_ x: [Float], _ name: String) -> [Float] {
        let w = weights[name]!
        let ms = x.reduce(Float(0)) { $0 + $1 * $1 } / Float(x.count)
        let s = 1 / (ms + eps).squareRoot()
        return x.indices.map { x[$0] * s * w[$0] }
    }
    func rope(_ v: [Float], pos: Int, base: Float) -> [Float] {   // half-split pairs (i, i + hd/2)
        var out = v
        for i in 0..<(hd / 2) {
            let theta = Double(pos) * pow(Double(base), -2 * Double(i) / Double(hd))
            let c = Float(cos(theta)), s = Float(sin(theta))
            out[i] = v[i] * c - v[i + hd / 2] * s
            out[i + hd / 2] = v[i] * s + v[i + hd / 2] * c
        }
        return out
    }
    func gelu(_ x: Float) -> Float { 0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * x * x * x))) }

    /// `window`: how many recent keys local layers see (the model's is 4).
    func referenceLogits(_ tokens: [Int32], window: Int? = nil) -> [[Float]] {
        let window = window ?? self.window
        let n = tokens.count
        var xs: [[Float]] = tokens.map { t in (0..<d).map { weights["token_embd.weight"]![Int(t) * d + $0] * Float(d).squareRoot() } }
        for l in 0..<layers {
            let p = "blk.\(l)."
            let global = l % pattern == pattern - 1
            let base = global ? globalBase : localBase
            var qs: [[[Float]]] = [], ks: [[Float]] = [], vs: [[Float]] = []
            for t in 0..<n {
                let h = norm(xs[t], p + "attn_norm.weight")
                let q = matvec(p + "attn_q.weight", h, rows: heads * hd)
                qs.append((0..<heads).map { rope(norm(Array(q[($0 * hd)..<(($0 + 1) * hd)]), p + "attn_q_norm.weight"), pos: t, base: base) })
                ks.append(rope(norm(matvec(p + "attn_k.weight", h, rows: hd), p + "attn_k_norm.weight"), pos: t, base: base))
                vs.append(matvec(p + "attn_v.weight", h, rows: hd))
            }
            for t in 0..<n {
                var attnOut: [Float] = []
                for head in 0..<heads {
                    // The mask, spelled out: causal, and on local layers only the last `window` keys.
                    let visible = (0..<n).filter { k in k <= t && (global || t - k < window) }
                    let scores = visible.map { k in zip(qs[t][head], ks[k]).reduce(Float(0)) { $0 + $1.0 * $1.1 } / Float(hd).squareRoot() }
                    let m = scores.max()!
                    let e = scores.map { exp($0 - m) }
                    let z = e.reduce(0, +)
                    var o = [Float](repeating: 0, count: hd)
                    for (i, k) in visible.enumerated() { for j in 0..<hd { o[j] += e[i] / z * vs[k][j] } }
                    attnOut += o
                }
                xs[t] = zip(xs[t], norm(matvec(p + "attn_output.weight", attnOut, rows: d), p + "post_attention_norm.weight")).map { $0 + $1 }
                let h = norm(xs[t], p + "ffn_norm.weight")
                let g = matvec(p + "ffn_gate.weight", h, rows: ffn), u = matvec(p + "ffn_up.weight", h, rows: ffn)
                let down = matvec(p + "ffn_down.weight", zip(g, u).map { gelu($0) * $1 }, rows: d)
                xs[t] = zip(xs[t], norm(down, p + "post_ffw_norm.weight")).map { $0 + $1 }
            }
        }
        return xs.map { matvec("token_embd.weight", norm($0, "output_norm.weight"), rows: vocab) }
    }

    func testSlidingWindowMatchesExplicitMask() throws {
        let url = try writeModel()
        defer { try? FileManager.default.removeItem(at: url) }
        let tokenizer = try SentencePieceTokenizer(tokens: (0..<vocab).map { "t\($0)" }, scores: nil, tokenTypes: nil,
                                                   bosID: nil, eosID: nil, unknownID: nil, addsBOS: false, addsSpacePrefix: false)
        let model = try Gemma3Model(ModelBuilder(gguf: GGUFFile(url: url), tokenizer: tokenizer, contextLength: 64))
        XCTAssertEqual((0..<layers).map(model.isGlobal), [false, false, true])
        let tokens: [Int32] = [3, 17, 5, 9, 1, 12, 0, 19, 7, 7, 2, 14, 11, 6]   // 14 > window 4
        let expected = referenceLogits(tokens)
        for (mode, threads) in [(KernelMode.reference, 1), (.fast, 2)] {
            model.compute.mode = mode
            model.compute.threads = threads
            model.compute.activations = .f32
            model.reset()
            var worst: Float = 0
            try model.forward(tokens, logitsFrom: 0) { i, logits in
                for v in 0..<vocab { worst = max(worst, abs(logits[v] - expected[i][v])) }
            }
            XCTAssertLessThan(worst, 2e-3, "\(mode): largest logit difference \(worst)")
        }
        // Without the window the answer would differ: the mask matters at these positions.
        let unwindowed = referenceLogits(tokens, window: 1_000)
        XCTAssertGreaterThan(zip(unwindowed.last!, expected.last!).map { abs($0 - $1) }.max()!, 1e-2)
    }
}
