import Foundation
import XCTest
import LMEngine

final class KernelAttentionTests: XCTestCase {
    let heads = 4, kvHeads = 2, headDim = 16

    /// Naive attention in double with an explicit [query pos × key pos] visibility mask.
    func naive(q: [Float], keys: [Float], values: [Float], pos: Int, scale: Float, window: Int?) -> (out: [Float], probs: [Float]) {
        var mask = [[Bool]](repeating: [Bool](repeating: false, count: pos + 1), count: pos + 1)
        for i in 0...pos { for k in 0...pos { mask[i][k] = k <= i && (window == nil || i - k < window!) } }
        var out = [Float](repeating: 0, count: heads * headDim)
        var probs = [Float](repeating: 0, count: heads * (pos + 1))
        for h in 0..<heads {
            let g = h / (heads / kvHeads)
            var s = [Double](repeating: -.infinity, count: pos + 1)
            for k in 0...pos where mask[pos][k] {
                var d = 0.0
                for i in 0..<headDim { d += Double(q[h * headDim + i]) * Double(keys[(k * kvHeads + g) * headDim + i]) }
                s[k] = d * Double(scale)
            }
            let m = s.max()!
            let z = s.reduce(0.0) { $0 + exp($1 - m) }
            for k in 0...pos {
                let p = exp(s[k] - m) / z
                probs[h * (pos + 1) + k] = Float(p)
                for i in 0..<headDim { out[h * headDim + i] += Float(p * Double(values[(k * kvHeads + g) * headDim + i])) }
            }
        }
        return (out, probs)
    }

    func testAttentionAgainstNaiveLoopWithAndWithoutWindow() {
        var rng = SplitMix(10)
        let positions = 12
        let keys = rng.floats(positions * kvHeads * headDim, in: -2...2)
        let values = rng.floats(positions * kvHeads * headDim, in: -2...2)
        let scale = 1 / Float(headDim).squareRoot()
        let ctx = ComputeContext(threads: 2, activations: .f32)   // the f32 attention (LlamaCppArithmeticTests covers the f16 one)
        ctx.minParallelWork = 0   // small test matrices still go through the pool
        for window in [nil, 1, 4] as [Int?] {
            for pos in [0, 3, 11] {
                let q = rng.floats(heads * headDim, in: -2...2)
                let (expected, expectedProbs) = naive(q: q, keys: keys, values: values, pos: pos, scale: scale, window: window)
                for mode in [KernelMode.reference, .fast] {
                    var out = [Float](repeating: .nan, count: heads * headDim)
                    var probs = [Float](repeating: .nan, count: heads * (pos + 1))
                    var scratch = [Float](repeating: 0, count: heads * (pos + 1))
                    attention(q: q, keys: keys, values: values, out: &out, heads: heads, kvHeads: kvHeads, headDim: headDim,
                              pos: pos, scale: scale, window: window, scratch: &scratch, probabilities: &probs, mode: mode)
                    for i in out.indices { XCTAssertEqual(out[i], expected[i], accuracy: 1e-5, "w=\(String(describing: window)) pos=\(pos) \(mode)") }
                    for i in probs.indices { XCTAssertEqual(probs[i], expectedProbs[i], accuracy: 1e-6) }
                }
                // The context's threaded version matches too.
                var out = [Float](repeating: .nan, count: heads * headDim)
                var probs = [Float](repeating: .nan, count: heads * (pos + 1))
                ctx.attention(q: q, keys: keys, values: values, out: &out, heads: heads, kvHeads: kvHeads, headDim: headDim,
                              pos: pos, scale: scale, window: window, probabilities: &probs)
                for i in out.indices { XCTAssertEqual(out[i], expected[i], accuracy: 1e-5) }
                for i in probs.indices { XCTAssertEqual(probs[i], expectedProbs[i], accuracy: 1e-6) }
            }
        }
        // Window 1: each query sees only itself, so the output is its own value row.
        let q = rng.floats(heads * headDim)
        var out = [Float](repeating: .nan, count: heads * headDim)
        var scratch = [Float](repeating: 0, count: heads * 6)
        attention(q: q, keys: keys, values: values, out: &out, heads: heads, kvHeads: kvHeads, headDim: headDim,
                  pos: 5, scale: 1, window: 1, scratch: &scratch, probabilities: nil)
        XCTAssertEqual(Array(out[0..<headDim]), Array(values[(5 * kvHeads) * headDim..<(5 * kvHeads + 1) * headDim]))
    }

    func testBatchedAttentionMatchesOneQueryAtATime() {
        var rng = SplitMix(20)
        let p0 = 3, n = 5, span = p0 + n
        let keys = rng.floats(span * kvHeads * headDim), values = rng.floats(span * kvHeads * headDim)
        let q = rng.floats(n * heads * headDim)
        let ctx = ComputeContext(threads: 2, activations: .f32)   // the f32 attention (LlamaCppArithmeticTests covers the f16 one)
        ctx.minParallelWork = 0   // small test matrices still go through the pool
        for window in [nil, 2] as [Int?] {
            var out = [Float](repeating: .nan, count: n * heads * headDim)
            var probs = [Float](repeating: .nan, count: n * heads * span)
            ctx.attentionBatch(q: q, keys: keys, values: values, out: &out, n: n, p0: p0, heads: heads, kvHeads: kvHeads,
                               headDim: headDim, scale: 0.25, window: window, probabilities: &probs)
            for t in 0..<n {
                let (expected, expectedProbs) = naive(q: Array(q[t * heads * headDim..<(t + 1) * heads * headDim]), keys: keys, values: values,
                                                      pos: p0 + t, scale: 0.25, window: window)
                for i in 0..<heads * headDim { XCTAssertEqual(out[t * heads * headDim + i], expected[i], accuracy: 1e-5) }
                for h in 0..<heads {
                    for k in 0..<span {
                        let want: Float = k <= p0 + t ? expectedProbs[h * (p0 + t + 1) + k] : 0
                        XCTAssertEqual(probs[(t * heads + h) * span + k], want, accuracy: 1e-6)
                    }
                }
            }
        }
    }

    /// The idea (`attentionReference`: plain loops, one query at a time) and the fast f32
    /// path (SIMD dots, threads, a batch of queries) agree to within 1e-5 of the output's
    /// scale, with and without a sliding window, probabilities included.
    func testAttentionReferenceMatchesFastPath() {
        var rng = SplitMix(30)
        let heads = 8, kvHeads = 2, headDim = 64, p0 = 7, n = 9, span = p0 + n
        let keys = rng.floats(span * kvHeads * headDim, in: -2...2), values = rng.floats(span * kvHeads * headDim, in: -2...2)
        let q = rng.floats(n * heads * headDim, in: -2...2)
        let ctx = ComputeContext(threads: 2, activations: .f32)
        ctx.minParallelWork = 0
        for window in [nil, 5] as [Int?] {
            var fast = [Float](repeating: .nan, count: n * heads * headDim)
            var fastProbs = [Float](repeating: .nan, count: n * heads * span)
            ctx.attentionBatch(q: q, keys: keys, values: values, out: &fast, n: n, p0: p0, heads: heads, kvHeads: kvHeads,
                               headDim: headDim, scale: 0.125, window: window, probabilities: &fastProbs)
            for t in 0..<n {
                let pos = p0 + t
                var ref = [Float](repeating: .nan, count: heads * headDim)
                var refProbs = [Float](repeating: .nan, count: heads * (pos + 1))
                Array(q[t * heads * headDim..<(t + 1) * heads * headDim]).withUnsafeBufferPointer { qt in
                    attentionReference(q: qt.baseAddress!, keys: keys, values: values, out: &ref, heads: heads, kvHeads: kvHeads,
                                       headDim: headDim, pos: pos, scale: 0.125, window: window, probabilities: &refProbs)
                }
                let outputScale = ref.map(abs).max()!
                XCTAssertGreaterThan(outputScale, 0.01)
                for i in ref.indices {
                    XCTAssertEqual(fast[t * heads * headDim + i], ref[i], accuracy: 1e-5 * outputScale,
                                   "window \(String(describing: window)) query \(t) element \(i)")
                }
                for h in 0..<heads {
                    for k in 0...pos {
                        XCTAssertEqual(fastProbs[(t * heads + h) * span + k], refProbs[h * (pos + 1) + k], accuracy: 1e-6)
                    }
                    if let window { for k in 0..<max(0, pos - window + 1) { XCTAssertEqual(refProbs[h * (pos + 1) + k], 0) } }
                }
            }
        }
    }
}
