import Foundation
import XCTest
import LMEngine

/// Each architecture on a small model written by the test, against a plain forward that
/// spells out what its file claims: llama with Llama 3's rope_freqs, qwen2's q/k/v biases,
/// qwen3's per-head q/k norms and head size apart from d_model, phi3's fused [q|k|v] and
/// [gate|up] rows with NEOX RoPE over the first `rot` dimensions, LongRoPE's per-pair factors
/// (short inside the original context, long beyond it) and attention factor on cos and sin,
/// gemma2's soft caps (small here, so they bite), √d embedding scale, post-norms, GELU gate and
/// sliding window on even layers. Reference and fast kernels, one and two threads, f32
/// activations.
final class ArchitectureReferenceTests: XCTestCase {
    struct Variant {
        var architecture: String
        var heads = 4, kvHeads = 2, headDim = 8
        var rot = 8
        var neox = true
        var fusedQKV = false
        var fusedGateUp = false
        var biases = false
        var qkNorm = false
        /// Write rope_freqs.weight (llama) or rope_factors_short/long (phi3).
        var ropeFreqs = false, longRope = false
        /// phi3 scales q by 1/√head before attention; the others scale the scores. Same maths.
        var attnFactor: Float = 1
        /// gemma2's layer: soft caps on scores and logits, window on layer 0, post-norms, GELU.
        var gemma2 = false
    }
    /// gemma2's caps and window in the test model: small enough that the capping changes the
    /// logits and the 12-token prompt reaches past the window.
    let attentionCap: Float = 1.5, finalCap: Float = 2, window = 4
    let d = 32, ffn = 24, vocab = 40, layers = 2
    let base: Float = 10_000, eps: Float = 1e-5, originalContext = 32
    var weights: [String: [Float]] = [:]

    func writeModel(_ v: Variant) throws -> URL {
        weights = [:]
        let a = v.architecture
        var w = GGUFWriter()
        w.set("general.architecture", .string(a))
        w.set("general.name", .string("\(a)-test"))
        w.set("\(a).block_count", .uint32(UInt32(layers)))
        w.set("\(a).embedding_length", .uint32(UInt32(d)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(ffn)))
        w.set("\(a).context_length", .uint32(128))
        w.set("\(a).attention.head_count", .uint32(UInt32(v.heads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(v.kvHeads)))
        w.set("\(a).attention.key_length", .uint32(UInt32(v.headDim)))
        w.set("\(a).attention.value_length", .uint32(UInt32(v.headDim)))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(eps))
        w.set("\(a).rope.dimension_count", .uint32(UInt32(v.rot)))
        w.set("\(a).rope.freq_base", .float32(base))
        if v.longRope {
            w.set("\(a).rope.scaling.attn_factor", .float32(v.attnFactor))
            w.set("\(a).rope.scaling.original_context_length", .uint32(UInt32(originalContext)))
        }
        if v.gemma2 {
            w.set("\(a).attention.sliding_window", .uint32(UInt32(window)))
            w.set("\(a).attn_logit_softcapping", .float32(attentionCap))
            w.set("\(a).final_logit_softcapping", .float32(finalCap))
        }
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: (0..<vocab).map { "<t\($0)>" })))
        w.set("tokenizer.ggml.merges", .array(GGUFArray(strings: [])))
        var g = SeededGenerator(seed: 11)
        func add(_ name: String, _ dims: [Int], scale: Float = 0.4, offset: Float = 0) throws {
            let values = (0..<dims.reduce(1, *)).map { _ in offset + scale * (g.nextUnit() * 2 - 1) }
            weights[name] = values
            try w.addTensor(name: name, dims: dims, type: .f32, bytes: values.withUnsafeBytes { Array($0) })
        }
        try add("token_embd.weight", [d, vocab])
        try add("output_norm.weight", [d], offset: 1)
        try add("output.weight", [d, vocab])
        let qw = v.heads * v.headDim, kvw = v.kvHeads * v.headDim
        for l in 0..<layers {
            let p = "blk.\(l)."
            try add(p + "attn_norm.weight", [d], offset: 1)
            try add(p + "ffn_norm.weight", [d], offset: 1)
            if v.fusedQKV {
                try add(p + "attn_qkv.weight", [d, qw + 2 * kvw])
            } else {
                try add(p + "attn_q.weight", [d, qw])
                try add(p + "attn_k.weight", [d, kvw])
                try add(p + "attn_v.weight", [d, kvw])
            }
            if v.biases {
                try add(p + "attn_q.bias", [qw]); try add(p + "attn_k.bias", [kvw]); try add(p + "attn_v.bias", [kvw])
            }
            if v.qkNorm {
                try add(p + "attn_q_norm.weight", [v.headDim], scale: 0.3, offset: 1)
                try add(p + "attn_k_norm.weight", [v.headDim], scale: 0.3, offset: 1)
            }
            try add(p + "attn_output.weight", [qw, d])
            if v.gemma2 {
                try add(p + "post_attention_norm.weight", [d], offset: 1)
                try add(p + "post_ffw_norm.weight", [d], offset: 1)
            }
            if v.fusedGateUp {
                try add(p + "ffn_up.weight", [d, 2 * ffn])
            } else {
                try add(p + "ffn_gate.weight", [d, ffn])
                try add(p + "ffn_up.weight", [d, ffn])
            }
            try add(p + "ffn_down.weight", [ffn, d])
        }
        if v.ropeFreqs { try add("rope_freqs.weight", [v.rot / 2], scale: 3, offset: 4) }
        if v.longRope {
            try add("rope_factors_short.weight", [v.rot / 2], scale: 0.5, offset: 1.5)
            try add("rope_factors_long.weight", [v.rot / 2], scale: 2, offset: 4)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(a)-reference-\(UUID()).gguf")
        try w.writeAtomically(to: url)
        return url
    }

    // MARK: the plain forward

    func matvec(_ name: String, _ x: [Float], rows: Int, from first: Int = 0) -> [Float] {
        let m = weights[name]!, cols = x.count
        return (first..<(first + rows)).map { r in (0..<cols).reduce(Float(0)) { $0 + m[r * cols + $1] * x[$1] } }
    }
    func norm(_ x: [Float], _ name: String) -> [Float] {
        let w = weights[name]!
        let s = 1 / (x.reduce(Float(0)) { $0 + $1 * $1 } / Float(x.count) + eps).squareRoot()
        return x.indices.map { x[$0] * s * w[$0] }
    }
    /// One head: pairs (i, i + rot/2) (NEOX) or (2i, 2i+1), i < rot/2; dimensions rot..< untouched.
    func rope(_ x: [Float], pos: Int, _ v: Variant, factors: [Float]?) -> [Float] {
        var out = x
        for i in 0..<(v.rot / 2) {
            let theta = Double(pos) * pow(Double(base), -2 * Double(i) / Double(v.rot)) / Double(factors?[i] ?? 1)
            let c = Float(cos(theta)) * v.attnFactor, s = Float(sin(theta)) * v.attnFactor
            let (a, b) = v.neox ? (i, i + v.rot / 2) : (2 * i, 2 * i + 1)
            out[a] = x[a] * c - x[b] * s
            out[b] = x[a] * s + x[b] * c
        }
        return out
    }
    func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }
    func gelu(_ x: Float) -> Float { 0.5 * x * (1 + tanh((2 / Float.pi).squareRoot() * (x + 0.044715 * x * x * x))) }
    func softCap(_ x: Float, _ cap: Float?) -> Float { cap.map { $0 * tanh(x / $0) } ?? x }

    func referenceLogits(_ tokens: [Int32], _ v: Variant, factors: [Float]?, finalCap: Float? = nil) -> [[Float]] {
        let n = tokens.count, hd = v.headDim, qw = v.heads * hd, kvw = v.kvHeads * hd
        let embedScale = v.gemma2 ? Float(d).squareRoot() : 1
        var xs: [[Float]] = tokens.map { t in (0..<d).map { weights["token_embd.weight"]![Int(t) * d + $0] * embedScale } }
        func heads(_ x: [Float], _ count: Int, _ normName: String?, pos: Int) -> [Float] {
            (0..<count).flatMap { h -> [Float] in
                var head = Array(x[(h * hd)..<((h + 1) * hd)])
                if let normName { head = norm(head, normName) }
                return rope(head, pos: pos, v, factors: factors)
            }
        }
        for l in 0..<layers {
            let p = "blk.\(l)."
            var qs: [[Float]] = [], ks: [[Float]] = [], vs: [[Float]] = []
            for t in 0..<n {
                let h = norm(xs[t], p + "attn_norm.weight")
                var q = v.fusedQKV ? matvec(p + "attn_qkv.weight", h, rows: qw) : matvec(p + "attn_q.weight", h, rows: qw)
                var k = v.fusedQKV ? matvec(p + "attn_qkv.weight", h, rows: kvw, from: qw) : matvec(p + "attn_k.weight", h, rows: kvw)
                var val = v.fusedQKV ? matvec(p + "attn_qkv.weight", h, rows: kvw, from: qw + kvw) : matvec(p + "attn_v.weight", h, rows: kvw)
                if v.biases {
                    q = zip(q, weights[p + "attn_q.bias"]!).map { $0 + $1 }
                    k = zip(k, weights[p + "attn_k.bias"]!).map { $0 + $1 }
                    val = zip(val, weights[p + "attn_v.bias"]!).map { $0 + $1 }
                }
                qs.append(heads(q, v.heads, v.qkNorm ? p + "attn_q_norm.weight" : nil, pos: t))
                ks.append(heads(k, v.kvHeads, v.qkNorm ? p + "attn_k_norm.weight" : nil, pos: t))
                vs.append(val)
            }
            for t in 0..<n {
                var attnOut: [Float] = []
                for head in 0..<v.heads {
                    let kv = head / (v.heads / v.kvHeads)
                    // gemma2: layer 0 sees only keys within the window; scores are capped.
                    let first = v.gemma2 && l % 2 == 0 ? max(0, t - window + 1) : 0
                    let scores = (first...t).map { k in
                        softCap((0..<hd).reduce(Float(0)) { $0 + qs[t][head * hd + $1] * ks[k][kv * hd + $1] } / Float(hd).squareRoot(),
                                v.gemma2 ? attentionCap : nil)
                    }
                    let m = scores.max()!, e = scores.map { exp($0 - m) }, z = e.reduce(0, +)
                    attnOut += (0..<hd).map { j in (first...t).reduce(Float(0)) { $0 + e[$1 - first] / z * vs[$1][kv * hd + j] } }
                }
                var o = matvec(p + "attn_output.weight", attnOut, rows: d)
                if v.gemma2 { o = norm(o, p + "post_attention_norm.weight") }
                xs[t] = zip(xs[t], o).map { $0 + $1 }
                let h = norm(xs[t], p + "ffn_norm.weight")
                let gate = v.fusedGateUp ? matvec(p + "ffn_up.weight", h, rows: ffn) : matvec(p + "ffn_gate.weight", h, rows: ffn)
                let up = v.fusedGateUp ? matvec(p + "ffn_up.weight", h, rows: ffn, from: ffn) : matvec(p + "ffn_up.weight", h, rows: ffn)
                var f = matvec(p + "ffn_down.weight", zip(gate, up).map { (v.gemma2 ? gelu($0) : silu($0)) * $1 }, rows: d)
                if v.gemma2 { f = norm(f, p + "post_ffw_norm.weight") }
                xs[t] = zip(xs[t], f).map { $0 + $1 }
            }
        }
        return xs.map { matvec("output.weight", norm($0, "output_norm.weight"), rows: vocab).map { softCap($0, finalCap) } }
    }

    /// Loads `v`'s file at `context` and holds its logits to the plain forward's.
    @discardableResult
    func check(_ v: Variant, context: Int = 128, factorsName: String? = nil,
               file: StaticString = #filePath, line: UInt = #line) throws -> (model: DecoderModel, logits: [[Float]]) {
        let tokens: [Int32] = [3, 17, 5, 9, 1, 12, 0, 19, 7, 7, 2, 14]
        let url = try writeModel(v)
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try ModelLoader.load(url: url, contextLength: context, threads: 2)
        XCTAssertEqual(model.config.architecture, v.architecture, file: file, line: line)
        XCTAssertEqual(model.config.ropeDimensions, v.rot, file: file, line: line)
        let expected = referenceLogits(tokens, v, factors: factorsName.map { weights[$0]! }, finalCap: v.gemma2 ? finalCap : nil)
        var got: [[Float]] = []
        for (mode, threads) in [(KernelMode.reference, 1), (.fast, 2)] {
            model.compute.mode = mode
            model.compute.threads = threads
            model.compute.activations = .f32
            model.reset()
            var worst: Float = 0
            got = []
            try model.forward(tokens, logitsFrom: 0) { i, logits in
                for t in 0..<vocab { worst = max(worst, abs(logits[t] - expected[i][t])) }
                got.append(Array(logits))
            }
            XCTAssertLessThan(worst, 2e-3, "\(v.architecture) \(factorsName ?? "") \(mode): largest logit difference \(worst)",
                              file: file, line: line)
        }
        return (model, got)
    }

    func testLlamaWithRopeFreqs() throws {
        try check(Variant(architecture: "llama", neox: false, ropeFreqs: true), factorsName: "rope_freqs.weight")
    }

    func testQwen2Biases() throws {
        try check(Variant(architecture: "qwen2", biases: true))
    }

    func testQwen3PerHeadNormsAndWideHeads() throws {
        // Heads of 16: 4 × 16 = 64 query dimensions on a 32-wide residual stream.
        try check(Variant(architecture: "qwen3", headDim: 16, rot: 16, qkNorm: true))
    }

    func testPhi3FusedProjectionsAndLongRoPE() throws {
        for fused in [true, false] {
            let v = Variant(architecture: "phi3", rot: 4, fusedQKV: fused, fusedGateUp: true, longRope: true, attnFactor: 1.19)
            // A context inside the original one takes the short factors; beyond it, the long ones.
            try check(v, context: originalContext, factorsName: "rope_factors_short.weight")
            try check(v, context: 128, factorsName: "rope_factors_long.weight")
        }
    }

    func testGemma2SoftCapsWindowAndPostNorms() throws {
        let v = Variant(architecture: "gemma2", headDim: 16, rot: 16, gemma2: true)
        let (model, logits) = try check(v)
        // llama.cpp's pattern for gemma2: even layers use the window, odd ones see everything.
        XCTAssertEqual((0..<layers).map { model.attentionWindow(layer: $0) }, [window, nil])
        // A gemma2 file without a chat template still gets Gemma's turns.
        XCTAssertEqual(ChatTemplate.detect(from: model.gguf), .gemma)
        // The final cap bounds every logit, and here it matters: uncapped, some exceed it.
        XCTAssert(logits.joined().allSatisfy { abs($0) < finalCap })
        XCTAssert(referenceLogits([3, 17, 5, 9, 1, 12], v, factors: nil).joined().contains { abs($0) > finalCap },
                  "the test's caps must bite for it to test them")
    }

    func testLlamaRopeFreqsDivideTheAngles() throws {
        // Llama 3's rope_freqs: the same kernel path, on one head; factors of 1 leave RoPE as it was.
        var plain: [Float] = (0..<8).map { Float($0) * 0.25 - 1 }
        var withOnes = plain, withFactors = plain
        let ones: [Float] = [1, 1, 1, 1], factors: [Float] = [1, 2, 8, 32]
        applyRoPE(&plain, heads: 1, headDim: 8, pos: 37, base: 500_000, style: .adjacentPairs)
        ones.withUnsafeBufferPointer { applyRoPE(&withOnes, heads: 1, headDim: 8, pos: 37, base: 500_000, style: .adjacentPairs, freqFactors: $0.baseAddress) }
        XCTAssertEqual(withOnes, plain)
        var reference = withFactors
        factors.withUnsafeBufferPointer { f in
            applyRoPE(&withFactors, heads: 1, headDim: 8, pos: 37, base: 500_000, style: .adjacentPairs, freqFactors: f.baseAddress)
            applyRoPEReference(&reference, heads: 1, headDim: 8, pos: 37, base: 500_000, style: .adjacentPairs, freqFactors: f.baseAddress)
        }
        for i in 0..<8 { XCTAssertEqual(withFactors[i], reference[i], accuracy: 1e-5) }
        XCTAssertEqual(Array(withFactors[0..<2]), Array(plain[0..<2]), "factor 1 on the first pair changes nothing")
        XCTAssertNotEqual(Array(withFactors[2..<8]), Array(plain[2..<8]))
    }
}
