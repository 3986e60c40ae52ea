import Foundation
import XCTest
import LMEngine

/// Hand-written backward passes against central finite differences, in double
/// precision: every op on its own, then the whole model on a tiny configuration.
/// Tolerance: relative error |analytic − numeric| / max(|analytic|, |numeric|, 1e-6)
/// ≤ 1e-4 for every element (the issue asks ≤ 1e-3); h = 1e-5.
final class TrainingGradientTests: XCTestCase {
    let tolerance = 1e-4
    let compute = ComputeContext(threads: 2)

    func random(_ count: Int, _ rng: inout SeededRandom, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in rng.normal() * scale }
    }

    /// Checks `analytic` (d loss / d inputs[k]) against central differences of `loss`.
    func check(_ name: String, inputs: [[Double]], analytic: [[Double]], loss: ([[Double]]) -> Double,
               file: StaticString = #filePath, line: UInt = #line) {
        var worst = 0.0
        var probe = inputs
        for k in inputs.indices {
            XCTAssertEqual(analytic[k].count, inputs[k].count, "\(name): gradient \(k) has the wrong size", file: file, line: line)
            for i in inputs[k].indices {
                let h = 1e-5
                probe[k][i] = inputs[k][i] + h
                let up = loss(probe)
                probe[k][i] = inputs[k][i] - h
                let down = loss(probe)
                probe[k][i] = inputs[k][i]
                let numeric = (up - down) / (2 * h)
                let error = abs(analytic[k][i] - numeric) / max(abs(analytic[k][i]), abs(numeric), 1e-6)
                worst = max(worst, error)
            }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(name): worst relative error \(worst)", file: file, line: line)
        // A gradient of all zeros would pass trivially; make sure it is not.
        XCTAssertTrue(analytic.contains { $0.contains { abs($0) > 1e-6 } }, "\(name): gradient is all zero", file: file, line: line)
    }

    /// Σ r ⊙ y, a loss whose gradient with respect to y is r.
    func weighted(_ y: [Double], _ r: [Double]) -> Double { zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }

    func testLinearGradient() {
        var rng = SeededRandom(seed: 1)
        let n = 3, rows = 5, cols = 4
        let x = random(n * cols, &rng), w = random(rows * cols, &rng), r = random(n * rows, &rng)
        func f(_ v: [[Double]]) -> Double {
            var y = [Double](repeating: 0, count: n * rows)
            TrainingOps.linear(v[0], v[1], &y, n: n, rows: rows, cols: cols, compute: compute)
            return weighted(y, r)
        }
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        TrainingOps.linearBackward(x, w, r, dx: &dx, dw: &dw, n: n, rows: rows, cols: cols, compute: compute)
        check("linear", inputs: [x, w], analytic: [dx, dw], loss: f)
    }

    func testEmbeddingGradient() {
        var rng = SeededRandom(seed: 2)
        let tokens: [Int32] = [2, 0, 2, 3], width = 3
        let table = random(5 * width, &rng), r = random(tokens.count * width, &rng)
        func f(_ v: [[Double]]) -> Double {
            var x = [Double](repeating: 0, count: tokens.count * width)
            TrainingOps.embedding(tokens, table: v[0], x: &x, width: width)
            return weighted(x, r)
        }
        var dt = [Double](repeating: 0, count: table.count)
        TrainingOps.embeddingBackward(tokens, dx: r, dtable: &dt, width: width)
        check("embedding", inputs: [table], analytic: [dt], loss: f)
        XCTAssertEqual(dt[2 * width], r[0] + r[2 * width], accuracy: 1e-12, "a repeated token's row gets both gradients")
    }

    func testRMSNormGradient() {
        var rng = SeededRandom(seed: 3)
        let n = 3, width = 6
        let x = random(n * width, &rng), w = random(width, &rng), r = random(n * width, &rng)
        func f(_ v: [[Double]]) -> Double {
            var y = [Double](repeating: 0, count: n * width), inv = [Double](repeating: 0, count: n)
            TrainingOps.rmsNorm(v[0], weight: v[1], y: &y, inv: &inv, n: n, width: width, eps: 1e-5)
            return weighted(y, r)
        }
        var y = [Double](repeating: 0, count: n * width), inv = [Double](repeating: 0, count: n)
        TrainingOps.rmsNorm(x, weight: w, y: &y, inv: &inv, n: n, width: width, eps: 1e-5)
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        TrainingOps.rmsNormBackward(x, weight: w, inv: inv, dy: r, dx: &dx, dw: &dw, n: n, width: width)
        check("rmsNorm", inputs: [x, w], analytic: [dx, dw], loss: f)
    }

    func testRoPEGradientAndEngineAngles() {
        var rng = SeededRandom(seed: 4)
        let length = 5, heads = 2, headDim = 4, n = 2 * length
        let (c, s): ([Double], [Double]) = TrainingOps.ropeTables(context: length, headDim: headDim, base: 10_000)
        let x = random(n * heads * headDim, &rng), r = random(x.count, &rng)
        func f(_ v: [[Double]]) -> Double {
            var y = v[0]
            TrainingOps.rope(&y, n: n, length: length, heads: heads, headDim: headDim, cos: c, sin: s)
            return weighted(y, r)
        }
        var dx = r
        TrainingOps.ropeBackward(&dx, n: n, length: length, heads: heads, headDim: headDim, cos: c, sin: s)
        check("rope", inputs: [x], analytic: [dx], loss: f)

        // The trainer's rotation equals the inference engine's (adjacent pairs) at every position,
        // to float rounding: the engine rotates with fused multiply-adds as llama.cpp does.
        let (cf, sf): ([Float], [Float]) = TrainingOps.ropeTables(context: length, headDim: headDim, base: 10_000)
        var mine = x.map { Float($0) }
        TrainingOps.rope(&mine, n: n, length: length, heads: heads, headDim: headDim, cos: cf, sin: sf)
        for t in 0..<n {
            var engine = (0..<(heads * headDim)).map { Float(x[t * heads * headDim + $0]) }
            applyRoPE(&engine, heads: heads, headDim: headDim, pos: t % length, base: 10_000, style: .adjacentPairs)
            for i in 0..<(heads * headDim) {
                let a = mine[t * heads * headDim + i]
                XCTAssertEqual(a, engine[i], accuracy: 4 * max(abs(a), 1e-3) * Float.ulpOfOne, "token \(t) element \(i)")
            }
        }
    }

    func testAttentionGradient() {
        var rng = SeededRandom(seed: 5)
        let batch = 2, length = 4, heads = 2, headDim = 3, width = heads * headDim, n = batch * length
        let q = random(n * width, &rng), k = random(n * width, &rng), v = random(n * width, &rng), r = random(n * width, &rng)
        func run(_ q: [Double], _ k: [Double], _ v: [Double]) -> ([Double], [Double]) {
            var out = [Double](repeating: 0, count: n * width), probs = [Double](repeating: 0, count: batch * heads * length * length)
            TrainingOps.attention(q: q, k: k, v: v, out: &out, probs: &probs, batch: batch, length: length,
                                  heads: heads, headDim: headDim, compute: compute)
            return (out, probs)
        }
        let (_, probs) = run(q, k, v)
        var dq = [Double](repeating: 0, count: q.count), dk = dq, dv = dq
        TrainingOps.attentionBackward(q: q, k: k, v: v, probs: probs, dout: r, dq: &dq, dk: &dk, dv: &dv, batch: batch,
                                      length: length, heads: heads, headDim: headDim, compute: compute)
        check("attention", inputs: [q, k, v], analytic: [dq, dk, dv]) { weighted(run($0[0], $0[1], $0[2]).0, r) }
        // Causal: the first position of each sequence attends only to itself.
        XCTAssertEqual(probs[0], 1, accuracy: 1e-12)
        XCTAssertEqual(probs[1], 0)
    }

    func testSiLUGateGradient() {
        var rng = SeededRandom(seed: 6)
        let count = 10
        let g = random(count, &rng, scale: 2), u = random(count, &rng), r = random(count, &rng)
        func f(_ v: [[Double]]) -> Double {
            var h = [Double](repeating: 0, count: count)
            TrainingOps.siluGate(gate: v[0], up: v[1], out: &h, count: count)
            return weighted(h, r)
        }
        var dg = [Double](repeating: 0, count: count), du = dg
        TrainingOps.siluGateBackward(gate: g, up: u, dh: r, dgate: &dg, dup: &du, count: count)
        check("siluGate", inputs: [g, u], analytic: [dg, du], loss: f)
    }

    func testCrossEntropyGradient() {
        var rng = SeededRandom(seed: 7)
        let vocabulary = 6, targets: [Int32] = [1, -1, 5, 0]
        let logits = random(targets.count * vocabulary, &rng, scale: 2)
        func f(_ v: [[Double]]) -> Double {
            var l = v[0]
            let (sum, count) = TrainingOps.crossEntropy(&l, targets: targets, vocabulary: vocabulary, gradient: false, compute: compute)
            return sum / Double(count)
        }
        var d = logits
        let (sum, count) = TrainingOps.crossEntropy(&d, targets: targets, vocabulary: vocabulary, gradient: true, compute: compute)
        XCTAssertEqual(count, 3)
        check("crossEntropy", inputs: [logits], analytic: [d], loss: f)
        // −log softmax by hand for the first row.
        let row = Array(logits[0..<vocabulary])
        let logZ = log(row.map { exp($0) }.reduce(0, +))
        let others = (2..<4).map { t -> Double in
            let r = Array(logits[t * vocabulary..<(t + 1) * vocabulary])
            return log(r.map { exp($0) }.reduce(0, +)) - r[Int(targets[t])]
        }
        XCTAssertEqual(sum, (logZ - row[1]) + others.reduce(0, +), accuracy: 1e-9)
    }

    /// The whole model: every parameter's gradient against finite differences of the mean loss.
    func testWholeModelGradient() {
        let shape = ModelShape(vocabulary: 7, embedding: 8, layers: 2, heads: 2, feedForward: 12, context: 5)
        let model = TrainableLlama<Double>(shape: shape, seed: 11)
        // Bigger weights than the 0.02 initialization, so every path carries signal.
        var rng = SeededRandom(seed: 12)
        for t in model.layout.tensors where !t.isNorm {
            for i in t.offset..<(t.offset + t.count) { model.parameters[i] = rng.normal() * 0.5 }
        }
        for t in model.layout.tensors where t.isNorm {
            for i in t.offset..<(t.offset + t.count) { model.parameters[i] = 1 + rng.normal() * 0.2 }
        }
        let tokens: [Int32] = [0, 3, 4, 1, 6, 0, 2, 2, 5, 3]
        let targets: [Int32] = [3, 4, 1, 6, -1, 2, 2, 5, 3, 1]
        model.zeroGradients()
        let loss = model.forward(tokens: tokens, targets: targets, batch: 2, length: 5)
        XCTAssertNotNil(loss)
        model.backward()
        let analytic = model.gradients
        let start = model.parameters
        check("model", inputs: [start], analytic: [analytic]) { v in
            model.parameters = v[0]
            return model.forward(tokens: tokens, targets: targets, batch: 2, length: 5, keepForBackward: false)!
        }
        model.parameters = start
        // Every tensor receives some gradient (nothing is disconnected).
        for t in model.layout.tensors {
            let norm = analytic[t.offset..<(t.offset + t.count)].reduce(0) { $0 + $1 * $1 }
            XCTAssertGreaterThan(norm, 0, "\(t.name) has no gradient")
        }
    }

    /// Float and Double compute the same loss from the same initial weights, and a
    /// few AdamW steps on one batch lower it.
    func testFloatModelMatchesDoubleAndLearns() {
        let shape = ModelShape(vocabulary: 11, embedding: 32, layers: 2, heads: 4, feedForward: 64, context: 8)
        let f = TrainableLlama<Float>(shape: shape, seed: 3)
        let d = TrainableLlama<Double>(shape: shape, seed: 3)
        var rng = SeededRandom(seed: 9)
        let tokens = (0..<32).map { _ in Int32(rng.next() % 11) }
        let targets = (0..<32).map { i in tokens[(i + 1) % 32] }
        let lf = f.forward(tokens: tokens, targets: targets, batch: 4, length: 8, keepForBackward: false)!
        let ld = d.forward(tokens: tokens, targets: targets, batch: 4, length: 8, keepForBackward: false)!
        XCTAssertEqual(lf, ld, accuracy: 1e-5)
        XCTAssertEqual(lf, log(11), accuracy: 0.1, "a fresh model is close to uniform")

        var optimizer = AdamW(layout: f.layout, weightDecay: 0.01)
        var first = 0.0, last = 0.0
        for step in 0..<30 {
            f.zeroGradients()
            let loss = f.forward(tokens: tokens, targets: targets, batch: 4, length: 8)!
            if step == 0 { first = loss }
            last = loss
            f.backward()
            AdamW.clip(&f.gradients, maxNorm: 1)
            optimizer.step(&f.parameters, f.gradients, learningRate: 3e-3)
        }
        XCTAssertLessThan(last, first * 0.5, "30 steps on one batch should at least halve the loss (\(first) → \(last))")
    }

    func testLearningRateSchedule() {
        let s = LearningRateSchedule(peak: 1e-3, floor: 1e-4, warmup: 10, total: 110)
        XCTAssertEqual(s.rate(at: 0), 1e-4, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 9), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 60), 5.5e-4, accuracy: 1e-9, "halfway down the cosine: the mean of peak and floor")
        XCTAssertEqual(s.rate(at: 110), 1e-4, accuracy: 1e-12)
    }
}
