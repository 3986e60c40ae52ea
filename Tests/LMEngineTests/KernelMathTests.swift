import Foundation
import XCTest
import LMEngine

final class KernelMathTests: XCTestCase {
    func testRMSNormAgainstNaiveMath() {
        var rng = SplitMix(1)
        for count in [1, 7, 64, 576, 1000] {
            let x = rng.floats(count, in: -4...4), w = rng.floats(count, in: 0.5...1.5)
            var expected = [Double](repeating: 0, count: count)
            let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(count)
            for i in 0..<count { expected[i] = Double(x[i]) / (ms + 1e-5).squareRoot() * Double(w[i]) }
            for mode in [KernelMode.reference, .fast] {
                var out = [Float](repeating: .nan, count: count)
                x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in out.withUnsafeMutableBufferPointer {
                    rmsNorm(xp.baseAddress!, weight: wp.baseAddress!, out: $0.baseAddress!, count: count, eps: 1e-5, mode: mode)
                } } }
                for i in 0..<count { XCTAssertEqual(Double(out[i]), expected[i], accuracy: 1e-5 * max(1, abs(expected[i])), "\(mode) n=\(count)") }
            }
        }
        // A hand-checked case: x = (3, 4), mean square 12.5, eps 0 → x / √12.5.
        var out: [Float] = [0, 0]
        rmsNorm([3, 4], weight: [1, 2], out: &out, count: 2, eps: 0)
        XCTAssertEqual(Double(out[0]), 3 / 12.5.squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(Double(out[1]), 8 / 12.5.squareRoot(), accuracy: 1e-6)
    }

    func testSoftmaxAgainstNaiveMath() {
        var rng = SplitMix(2)
        for count in [1, 5, 16, 33, 300] {
            let x = rng.floats(count, in: -20...20)
            let m = x.max()!
            let sum = x.reduce(0.0) { $0 + exp(Double($1 - m)) }
            for mode in [KernelMode.reference, .fast] {
                var y = x
                softmax(&y, count: count, mode: mode)
                for i in 0..<count { XCTAssertEqual(Double(y[i]), exp(Double(x[i] - m)) / sum, accuracy: 1e-6, "\(mode) n=\(count)") }
                XCTAssertEqual(y.reduce(0, +), 1, accuracy: 1e-5)
            }
        }
        var big: [Float] = [1000, 1000, -.infinity]   // would overflow without the max subtraction
        softmax(&big, count: 3)
        XCTAssertEqual(big, [0.5, 0.5, 0])
    }

    func testSiLUAndGELUGatesAgainstFormulas() {
        var rng = SplitMix(3)
        let g = rng.floats(100, in: -6...6), u = rng.floats(100, in: -2...2)
        var s = g
        siluGate(&s, up: u, count: 100)
        var e = g
        geluTanhGate(&e, up: u, count: 100)
        for i in 0..<100 {
            let v = Double(g[i])
            XCTAssertEqual(Double(s[i]), v / (1 + exp(-v)) * Double(u[i]), accuracy: 1e-5)
            let gelu = 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            // GELU is read from ggml's fp16 table (as llama.cpp): fp16 rounding, twice.
            XCTAssertEqual(Double(e[i]), gelu * Double(u[i]), accuracy: 2e-3 * max(1, abs(gelu * Double(u[i]))))
        }
        var one: [Float] = [1]
        geluTanhGate(&one, up: [1], count: 1)
        XCTAssertEqual(one[0], 0.841192, accuracy: 5e-4)   // tanh-GELU(1), to fp16 precision
        var two: [Float] = [2]
        siluGate(&two, up: [3], count: 1)
        XCTAssertEqual(two[0], 3 * 2 / (1 + exp(-2)), accuracy: 1e-5)   // 5.2847…
    }

    /// Both styles against the rotation written out directly.
    func testRoPEBothStylesAgainstDirectFormula() {
        let heads = 3, headDim = 64
        var rng = SplitMix(4)
        let v = rng.floats(heads * headDim)
        for style in [RoPEStyle.adjacentPairs, .halfSplit] {
            for pos in [0, 1, 17, 1000] {
                var expected = v
                for h in 0..<heads {
                    for i in 0..<headDim / 2 {
                        let theta = Double(pos) * pow(10000, -2 * Double(i) / Double(headDim))
                        let a = h * headDim + (style == .adjacentPairs ? 2 * i : i)
                        let b = h * headDim + (style == .adjacentPairs ? 2 * i + 1 : i + headDim / 2)
                        expected[a] = Float(Double(v[a]) * cos(theta) - Double(v[b]) * sin(theta))
                        expected[b] = Float(Double(v[a]) * sin(theta) + Double(v[b]) * cos(theta))
                    }
                }
                for mode in [KernelMode.reference, .fast] {
                    var out = v
                    applyRoPE(&out, heads: heads, headDim: headDim, pos: pos, base: 10000, style: style, mode: mode)
                    // The fast angles follow ggml's float recurrence: error grows with pos.
                    let tolerance: Float = mode == .reference ? 1e-5 : 1e-5 + 2e-6 * Float(pos)
                    for i in v.indices { XCTAssertEqual(out[i], expected[i], accuracy: tolerance, "\(style) pos \(pos) \(mode) [\(i)]") }
                }
            }
        }
        // pos 1, first pair, adjacent style: rotation by exactly 1 radian.
        var unit: [Float] = [1, 0, 0, 0]
        applyRoPE(&unit, heads: 1, headDim: 4, pos: 1, base: 10000, style: .adjacentPairs)
        XCTAssertEqual(unit[0], Float(cos(1.0)), accuracy: 1e-6)
        XCTAssertEqual(unit[1], Float(sin(1.0)), accuracy: 1e-6)
    }
}
