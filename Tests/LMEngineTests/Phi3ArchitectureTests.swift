import Foundation
import XCTest
import LMEngine

/// phi3 on a small model written by the test: the engine's Phi3Model against a plain
/// forward that spells out what Phi3.swift claims — fused [q|k|v] and [gate|up] rows,
/// NEOX RoPE over the first `rot` of each head's dimensions with per-pair factors and an
/// attention factor on cos and sin — with the short factors inside the original context
/// and the long ones beyond it. Llama 3's rope_freqs ride the same kernel path.
final class Phi3ArchitectureTests: XCTestCase {
    // 2 layers, 4 heads of 8 (2 kv heads), RoPE over 4 of 8 dimensions.
    let d = 32, heads = 4, kvHeads = 2, hd = 8, rot = 4, ffn = 24, vocab = 40, layers = 2
    let base: Float = 10_000, eps: Float = 1e-5, attnFactor: Float = 1.19, originalContext = 32
    var weights: [String: [Float]] = [:]

    func writeModel(fused: Bool) throws -> URL {
        weights = [:]
        var w = GGUFWriter()
        w.set("general.architecture", .string("phi3"))
        w.set("general.name", .string("phi3-test"))
        w.set("phi3.block_count", .uint32(UInt32(layers)))
        w.set("phi3.embedding_length", .uint32(UInt32(d)))
        w.set("phi3.feed_forward_length", .uint32(UInt32(ffn)))
        w.set("phi3.context_length", .uint32(128))
        w.set("phi3.attention.head_count", .uint32(UInt32(heads)))
        w.set("phi3.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("phi3.attention.layer_norm_rms_epsilon", .float32(eps))
        w.set("phi3.rope.dimension_count", .uint32(UInt32(rot)))
        w.set("phi3.rope.freq_base", .float32(base))
        w.set("phi3.rope.scaling.attn_factor", .float32(attnFactor))
        w.set("phi3.rope.scaling.original_context_length", .uint32(UInt32(originalContext)))
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
        let qw = heads * hd, kvw = kvHeads * hd
        for l in 0..<layers {
            let p = "blk.\(l)."
            try add(p + "attn_norm.weight", [d], offset: 1)
            try add(p + "ffn_norm.weight", [d], offset: 1)
            if fused {
                try add(p + "attn_qkv.weight", [d, qw + 2 * kvw])
            } else {
                try add(p + "attn_q.weight", [d, qw])
                try add(p + "attn_k.weight", [d, kvw])
                try add(p + "attn_v.weight", [d, kvw])
            }
            try add(p + "attn_output.weight", [qw, d])
            try add(p + "ffn_up.weight", [d, 2 * ffn])
            try add(p + "ffn_down.weight", [ffn, d])
        }
        try add("rope_factors_short.weight", [rot / 2], scale: 0.5, offset: 1.5)
        try add("rope_factors_long.weight", [rot / 2], scale: 2, offset: 4)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("phi3-\(fused)-\(UUID()).gguf")
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
    /// NEOX pairs (i, i + rot/2) for i < rot/2; dimensions rot..<hd untouched.
    func rope(_ v: [Float], pos: Int, factors: [Float]) -> [Float] {
        var out = v
        for i in 0..<(rot / 2) {
            let theta = Double(pos) * pow(Double(base), -2 * Double(i) / Double(rot)) / Double(factors[i])
            let c = Float(cos(theta)) * attnFactor, s = Float(sin(theta)) * attnFactor
            out[i] = v[i] * c - v[i + rot / 2] * s
            out[i + rot / 2] = v[i] * s + v[i + rot / 2] * c
        }
        return out
    }
    func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }

    func referenceLogits(_ tokens: [Int32], fused: Bool, factors: [Float]) -> [[Float]] {
        let n = tokens.count, qw = heads * hd, kvw = kvHeads * hd
        var xs: [[Float]] = tokens.map { t in (0..<d).map { weights["token_embd.weight"]![Int(t) * d + $0] } }
        for l in 0..<layers {
            let p = "blk.\(l)."
            var qs: [[Float]] = [], ks: [[Float]] = [], vs: [[Float]] = []
            for t in 0..<n {
                let h = norm(xs[t], p + "attn_norm.weight")
                let q = fused ? matvec(p + "attn_qkv.weight", h, rows: qw) : matvec(p + "attn_q.weight", h, rows: qw)
                let k = fused ? matvec(p + "attn_qkv.weight", h, rows: kvw, from: qw) : matvec(p + "attn_k.weight", h, rows: kvw)
                let v = fused ? matvec(p + "attn_qkv.weight", h, rows: kvw, from: qw + kvw) : matvec(p + "attn_v.weight", h, rows: kvw)
                qs.append((0..<heads).flatMap { rope(Array(q[($0 * hd)..<(($0 + 1) * hd)]), pos: t, factors: factors) })
                ks.append((0..<kvHeads).flatMap { rope(Array(k[($0 * hd)..<(($0 + 1) * hd)]), pos: t, factors: factors) })
                vs.append(v)
            }
            for t in 0..<n {
                var attnOut: [Float] = []
                for head in 0..<heads {
                    let kv = head / (heads / kvHeads)
                    let scores = (0...t).map { k in
                        (0..<hd).reduce(Float(0)) { $0 + qs[t][head * hd + $1] * ks[k][kv * hd + $1] } / Float(hd).squareRoot()
                    }
                    let m = scores.max()!, e = scores.map { exp($0 - m) }, z = e.reduce(0, +)
                    attnOut += (0..<hd).map { j in (0...t).reduce(Float(0)) { $0 + e[$1] / z * vs[$1][kv * hd + j] } }
                }
                xs[t] = zip(xs[t], matvec(p + "attn_output.weight", attnOut, rows: d)).map { $0 + $1 }
                let h = norm(xs[t], p + "ffn_norm.weight")
                let gate = matvec(p + "ffn_up.weight", h, rows: ffn), up = matvec(p + "ffn_up.weight", h, rows: ffn, from: ffn)
                xs[t] = zip(xs[t], matvec(p + "ffn_down.weight", zip(gate, up).map { silu($0) * $1 }, rows: d)).map { $0 + $1 }
            }
        }
        return xs.map { matvec("output.weight", norm($0, "output_norm.weight"), rows: vocab) }
    }

    func testFusedAndSplitProjectionsWithShortAndLongRoPEFactors() throws {
        let tokens: [Int32] = [3, 17, 5, 9, 1, 12, 0, 19, 7, 7, 2, 14]
        for fused in [true, false] {
            let url = try writeModel(fused: fused)
            defer { try? FileManager.default.removeItem(at: url) }
            // A context inside the original one takes the short factors; beyond it, the long ones.
            for (context, factorsName) in [(originalContext, "rope_factors_short.weight"), (128, "rope_factors_long.weight")] {
                let model = try ModelLoader.load(url: url, contextLength: context, threads: 2)
                XCTAssertTrue(model is Phi3Model)
                XCTAssertEqual(model.config.ropeDimensions, rot)
                let expected = referenceLogits(tokens, fused: fused, factors: weights[factorsName]!)
                for (mode, threads) in [(KernelMode.reference, 1), (.fast, 2)] {
                    model.compute.mode = mode
                    model.compute.threads = threads
                    model.compute.activations = .f32
                    model.reset()
                    var worst: Float = 0
                    try model.forward(tokens, logitsFrom: 0) { i, logits in
                        for v in 0..<vocab { worst = max(worst, abs(logits[v] - expected[i][v])) }
                    }
                    XCTAssertLessThan(worst, 2e-3, "fused \(fused), \(factorsName), \(mode): largest logit difference \(worst)")
                }
            }
        }
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
