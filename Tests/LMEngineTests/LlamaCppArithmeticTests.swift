import Foundation
import XCTest
import LMEngine

/// The pieces of llama.cpp's CPU arithmetic lmlab reproduces (see the engine issue):
/// each fast kernel equals its plain reference loop bit for bit, and both stay close
/// to the textbook formula they approximate.
final class LlamaCppArithmeticTests: XCTestCase {
    /// ggml's vector exp is within 2 ulp of expf over the range silu uses, exact at 0,
    /// and flushes like ggml outside it.
    func testGgmlExpIsCloseToExpf() {
        var rng = SplitMix(1)
        for _ in 0..<20_000 {
            let x = rng.float(in: -87...88)
            let e = ggmlExp(x), want = expf(x)
            XCTAssertLessThanOrEqual(abs(e - want), 2 * want.ulp, "x=\(x)")
        }
        XCTAssertEqual(ggmlExp(0), 1)
        XCTAssertEqual(ggmlExp(-200), 0)
        XCTAssertEqual(ggmlExp(200), .infinity)
    }

    /// SiLU·gate: the 16-lane version equals the reference loop bit for bit (the last
    /// count % 16 elements use expf in both), and both are close to v/(1+e^-v)·u.
    func testSiLUGateFastEqualsReference() {
        var rng = SplitMix(2)
        let count = 16 * 40 + 7
        let g = rng.floats(count, in: -30...30), u = rng.floats(count, in: -2...2)
        var fast = g, ref = g
        siluGate(&fast, up: u, count: count, mode: .fast)
        siluGate(&ref, up: u, count: count, mode: .reference)
        XCTAssertEqual(fast.map(\.bitPattern), ref.map(\.bitPattern))
        for i in 0..<count {
            let v = Double(g[i])
            XCTAssertEqual(Double(fast[i]), v / (1 + exp(-v)) * Double(u[i]), accuracy: 1e-5 * max(1, abs(v)))
        }
    }

    /// GELU·gate from the fp16 table: fast (table) = reference (computed entry), within
    /// fp16 rounding of the tanh formula, and exactly 0 / v·u beyond ∓10.
    func testGELUGateFastEqualsReference() {
        var rng = SplitMix(3)
        var g = rng.floats(1000, in: -12...12)
        g += [-10, 10, 9.999, -9.999, 0, 1]
        let u = rng.floats(g.count, in: -2...2)
        var fast = g, ref = g
        geluTanhGate(&fast, up: u, count: g.count, mode: .fast)
        geluTanhGate(&ref, up: u, count: g.count, mode: .reference)
        XCTAssertEqual(fast.map(\.bitPattern), ref.map(\.bitPattern))
        for i in g.indices {
            let v = Double(g[i])
            let gelu = v <= -10 ? 0 : v >= 10 ? v : 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            XCTAssertEqual(Double(fast[i]), gelu * Double(u[i]), accuracy: 2e-3 * max(1, abs(gelu * Double(u[i]))), "v=\(v)")
        }
    }

    func testRoundedToHalf() {
        XCTAssertEqual(roundedToHalf(1), 1)
        XCTAssertEqual(roundedToHalf(1.0 / 3), 0.333251953125)           // 0x3555
        XCTAssertEqual(roundedToHalf(1 + 1.0 / 2048), 1)                // a tie goes to even
        XCTAssertEqual(roundedToHalf(1 + 3.0 / 2048), 1 + 2.0 / 1024)   // and this one up
        XCTAssertEqual(roundedToHalf(65519), 65504)
        XCTAssertEqual(roundedToHalf(65520), .infinity)
        XCTAssertEqual(roundedToHalf(1e-8), 0)
        XCTAssertEqual(roundedToHalf(3e-7), 2.980232238769531e-7)       // subnormal 5 · 2^-24
    }

    /// The vector helpers that avoid SIMD compares (LaneMasks.swift) give exactly the
    /// scalar results: every fp16 bit pattern through the 4-lane conversion, fp32 bit
    /// patterns from every range (subnormal, normal, overflow, inf, NaN) through the
    /// 16-lane rounding, and ggml's exp across and beyond its range.
    func testVectorHelpersEqualScalarVersions() {
        for first in stride(from: 0, to: 65536, by: 4) {
            let h = SIMD4<UInt32>(UInt32(first), UInt32(first + 1), UInt32(first + 2), UInt32(first + 3))
            let v = halfBitsToFloat(h)
            for i in 0..<4 {
                let want = halfToFloat(UInt16(h[i]))
                XCTAssertTrue(v[i].bitPattern == want.bitPattern || (v[i].isNaN && want.isNaN), "fp16 0x\(String(h[i], radix: 16))")
            }
        }
        var rng = SplitMix(7)
        var patterns: [UInt32] = [0, 0x8000_0000, 0x3880_0000, 0x387F_FFFF, 0x477F_EFFF, 0x477F_F000, 0x7F80_0000, 0x7FC0_0000, 0xFF80_0000]
        for _ in 0..<200_000 { patterns.append(UInt32(truncatingIfNeeded: rng.next())) }
        // Half of the random ones again, squeezed into fp16's range where rounding is busiest.
        for i in 0..<100_000 { patterns.append((patterns[i] & 0x807F_FFFF) | (UInt32(0x66 + i % 0x2A) << 23)) }
        var mismatches = 0
        for start in stride(from: 0, to: patterns.count - 15, by: 16) {
            var v = SIMD16<Float>()
            for i in 0..<16 { v[i] = Float(bitPattern: patterns[start + i]) }
            let r = roundedToHalf16(v)
            for i in 0..<16 where !(r[i].bitPattern == roundedToHalf(v[i]).bitPattern || (r[i].isNaN && v[i].isNaN)) { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0, "roundedToHalf16 lanes differing from roundedToHalf")
        var expMismatches = 0
        for start in stride(from: -300.0 as Float, to: 300, by: 0.37 * 16) {
            var x = SIMD16<Float>()
            for i in 0..<16 { x[i] = start + Float(i) * 0.37 }
            if start > 0 { x[5] = .nan }
            let e = ggmlExp16(x)
            for i in 0..<16 where !(e[i].bitPattern == ggmlExp(x[i]).bitPattern || (e[i].isNaN && x[i].isNaN)) { expMismatches += 1 }
        }
        XCTAssertEqual(expMismatches, 0, "ggmlExp16 lanes differing from ggmlExp")
    }

    /// Attention with llama.cpp's arithmetic (f16 query, keys and values, f16 running
    /// output): the SIMD path equals the plain loop bit for bit, threaded or not, and
    /// stays within f16 rounding of the f32 attention.
    func testHalfPrecisionAttentionFastEqualsReference() {
        var rng = SplitMix(4)
        let heads = 4, kvHeads = 2, headDim = 64, p0 = 5, n = 6, span = p0 + n
        let keys = rng.floats(span * kvHeads * headDim, in: -2...2).map(roundedToHalf)
        let values = rng.floats(span * kvHeads * headDim, in: -2...2).map(roundedToHalf)
        let q = rng.floats(n * heads * headDim, in: -2...2)
        func run(_ mode: KernelMode, _ activations: ActivationPrecision, window: Int?) -> [Float] {
            let ctx = ComputeContext(threads: 2, mode: mode, activations: activations)
            ctx.minParallelWork = 0
            var out = [Float](repeating: .nan, count: n * heads * headDim)
            ctx.attentionBatch(q: q, keys: keys, values: values, out: &out, n: n, p0: p0, heads: heads, kvHeads: kvHeads,
                               headDim: headDim, scale: 0.125, window: window)
            return out
        }
        for window in [nil, 3] as [Int?] {
            let fast = run(.fast, .q8, window: window), ref = run(.reference, .q8, window: window)
            XCTAssertEqual(fast.map(\.bitPattern), ref.map(\.bitPattern))
            let plain = run(.fast, .f32, window: window)
            for i in plain.indices { XCTAssertEqual(fast[i], plain[i], accuracy: 5e-3) }
            XCTAssertNotEqual(fast, plain, "the f16 path really rounds")
        }
    }

    /// Q4_K in the order of llama.cpp's four-row kernel: SIMD = plain loop, and the two
    /// orders differ only by float rounding.
    func testQ4KFourRowOrderEqualsReference() {
        var rng = SplitMix(5)
        let n = 1024
        let w = rng.floats(n, in: -1...1), a = rng.floats(n, in: -3...3)
        var wq = [UInt8](repeating: 0, count: GGMLType.q4_K.rowBytes(n)!)
        var aq = [UInt8](repeating: 0, count: GGMLType.q8_K.rowBytes(n)!)
        w.withUnsafeBufferPointer { p in wq.withUnsafeMutableBytes { Q4_KFormat.quantizeRow(src: p.baseAddress!, dst: $0.baseAddress!, count: n) } }
        a.withUnsafeBufferPointer { p in aq.withUnsafeMutableBytes { Q8_KFormat.quantizeActivationRow(src: p.baseAddress!, dst: $0.baseAddress!, count: n) } }
        wq.withUnsafeBytes { wp in
            aq.withUnsafeBytes { ap in
                let x = wp.baseAddress!, y = ap.baseAddress!
                let four = Q4_KFormat.dot(x, y, count: n, perSixtyFour: true)
                XCTAssertEqual(four.bitPattern, Q4_KFormat.dotReference(x, y, count: n, perSixtyFour: true).bitPattern)
                let one = Q4_KFormat.dot(x, y, count: n)
                XCTAssertEqual(one.bitPattern, Q4_KFormat.dotReference(x, y, count: n).bitPattern)
                XCTAssertEqual(four, one, accuracy: 1e-4 * max(1, abs(one)))
            }
        }
    }
}

extension LlamaCppArithmeticTests {
    /// The SIMD fp16 rounding inside the f16 attention takes its subnormal branch for
    /// tiny keys and values (|x| < 2^-14); it must still equal the reference loop,
    /// which rounds one value at a time with `roundedToHalf`.
    func testHalfAttentionWithSubnormalValues() {
        var rng = SplitMix(6)
        let heads = 1, headDim = 32, n = 3
        let keys = rng.floats(n * headDim, in: -1...1).map { roundedToHalf($0 * 1e-5) }
        let values = rng.floats(n * headDim, in: -1...1).map { roundedToHalf($0 * 1e-6) }
        let q = rng.floats(n * headDim, in: -1...1)
        var outs: [[Float]] = []
        for mode in [KernelMode.fast, .reference] {
            let ctx = ComputeContext(threads: 1, mode: mode, activations: .q8)
            var out = [Float](repeating: .nan, count: n * headDim)
            ctx.attentionBatch(q: q, keys: keys, values: values, out: &out, n: n, p0: 0, heads: heads, kvHeads: 1,
                               headDim: headDim, scale: 1, window: nil)
            outs.append(out)
        }
        XCTAssertEqual(outs[0].map(\.bitPattern), outs[1].map(\.bitPattern))
    }
}

extension LlamaCppArithmeticTests {
    /// llama.cpp's tiled f32 attention (a micro-batch of 64 or more rows): the packed SIMD
    /// path equals the plain loop bit for bit, across tile edges, with a window and a soft
    /// cap; it stays within f32 rounding of the plain attention and differs from it and from
    /// the one-row f16 path in the last bits.
    func testTiledAttentionFastEqualsReference() {
        var rng = SplitMix(9)
        let heads = 4, kvHeads = 2, p0 = 70, n = 90, span = p0 + n
        for headDim in [64, 256] {
            let keys = rng.floats(span * kvHeads * headDim, in: -2...2).map(roundedToHalf)
            let values = rng.floats(span * kvHeads * headDim, in: -2...2).map(roundedToHalf)
            let q = rng.floats(n * heads * headDim, in: -2...2)
            func run(_ mode: KernelMode, _ activations: ActivationPrecision, wide: Bool, window: Int?, cap: Float?) -> [Float] {
                let ctx = ComputeContext(threads: 2, mode: mode, activations: activations)
                ctx.minParallelWork = 0
                ctx.wideMicroBatch = wide
                var out = [Float](repeating: .nan, count: n * heads * headDim)
                ctx.attentionBatch(q: q, keys: keys, values: values, out: &out, n: n, p0: p0, heads: heads, kvHeads: kvHeads,
                                   headDim: headDim, scale: 1 / Float(headDim).squareRoot(), softCap: cap, window: window)
                return out
            }
            for (window, cap) in [(nil, nil), (100, nil), (nil, 50)] as [(Int?, Float?)] {
                let fast = run(.fast, .q8, wide: true, window: window, cap: cap)
                let ref = run(.reference, .q8, wide: true, window: window, cap: cap)
                XCTAssertEqual(fast.map(\.bitPattern), ref.map(\.bitPattern), "headDim \(headDim) window \(String(describing: window))")
                let plain = run(.fast, .f32, wide: true, window: window, cap: cap)
                for i in plain.indices { XCTAssertEqual(fast[i], plain[i], accuracy: 1e-5) }
                XCTAssertNotEqual(fast, plain, "the tiled order sums differently")
                XCTAssertNotEqual(fast, run(.fast, .q8, wide: false, window: window, cap: cap), "and it is not the f16 path")
            }
        }
    }
}

extension LlamaCppArithmeticTests {
    /// Q4_0 in the order of llama.cpp's repacked kernels (a matrix with a multiple of 8 rows):
    /// the SIMD matmul equals the plain loop bit for bit: three threads take 13, 13 and 14
    /// of 40 rows, so four-token tiles run two rows at a time with an odd row left, and
    /// single tokens eight rows at a time with a tail. The same rows in a matrix of 41
    /// rows (not repacked, the vec_dot lanes' order) come out within float rounding of it
    /// but not equal.
    func testQ4_0RepackedOrderEqualsReference() {
        let cols = 2112, n = 6   // 66 blocks: the single-token dot's groups of four and a tail of two
        var rng = SplitMix(11)
        let x = rng.floats(n * cols, in: -3...3)
        func run(_ m: TestMatrix, _ mode: KernelMode) -> [Float] {
            let ctx = ComputeContext(threads: 3, mode: mode, activations: .q8)
            ctx.minParallelWork = 0
            var y = [Float](repeating: .nan, count: n * m.rows)
            m.with { w in ctx.matmul(w, x, &y, n: n) }
            return y
        }
        let repacked = TestMatrix(.q4_0, rows: 40, cols: cols, seed: 12)
        let fast = run(repacked, .fast)
        XCTAssertEqual(fast.map(\.bitPattern), run(repacked, .reference).map(\.bitPattern))
        let notRepacked = TestMatrix(.q4_0, rows: 41, cols: cols, seed: 12)
        XCTAssertEqual(Array(notRepacked.bytes.prefix(repacked.bytes.count)), repacked.bytes)
        let lanes = run(notRepacked, .fast)
        XCTAssertEqual(lanes.map(\.bitPattern), run(notRepacked, .reference).map(\.bitPattern))
        var differing = 0
        for t in 0..<n {
            for r in 0..<40 {
                let a = fast[t * 40 + r], b = lanes[t * 41 + r]
                XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)))
                if a != b { differing += 1 }
            }
        }
        XCTAssertGreaterThan(differing, 0, "the repacked order rounds differently from the lanes'")
    }
}
