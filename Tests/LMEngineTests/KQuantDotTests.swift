import Foundation
import XCTest
import LMEngine

/// K-quant round-trip error, Q8_K activations, the dot products (reference vs SIMD,
/// vs float) and matmul through ComputeContext.
final class KQuantDotTests: XCTestCase {
    typealias S = QuantTestSupport
    static let weightTypes: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    /// test-quantize-fns on 0.1 + 2·cos(i), 32×128 values, ggml's metric sqrt(Σ d²)/n:
    /// ≤ 0.0075 for Q2_K, 0.0040 for Q3_K, 0.002 for the rest. The per-element RMSE
    /// bounds beside them are ours (observed values with some room), the telling check.
    func testRoundTripErrorOnSyntheticData() {
        let x = S.synthetic(32 * 128)
        let ggmlBound: [GGMLType: Double] = [.q2_K: 0.0075, .q3_K: 0.0040, .q4_K: 0.002, .q5_K: 0.002, .q6_K: 0.002, .q8_K: 0.002]
        let rmseBound: [GGMLType: Double] = [.q2_K: 0.32, .q3_K: 0.17, .q4_K: 0.07, .q5_K: 0.037, .q6_K: 0.018, .q8_K: 0.0055]
        for t in Self.weightTypes + [.q8_K] {
            let y = S.dequantize(t, S.quantize(t, x), count: x.count)
            let e = S.rmse(x, y)
            let ggmlError = e * Double(x.count).squareRoot() / Double(x.count)
            print("round-trip \(t.name): rmse \(e), ggml metric \(ggmlError)")
            XCTAssertLessThanOrEqual(ggmlError, ggmlBound[t]!, t.name)
            XCTAssertLessThanOrEqual(e, rmseBound[t]!, t.name)
        }
    }

    /// Q8_K by hand: the value of largest magnitude, here +127, lands on -127: the
    /// multiplier is -127/max = -1 and d = 1/multiplier = -1. Codes round halves to
    /// even (nearest_int); bsums are the sums of each 16 codes; an all-zero block is
    /// all zero bytes.
    func testQ8_KBlockByHand() {
        var x = [Float](repeating: 0, count: 512)
        for i in 0..<256 { x[i] = Float(i % 16) - 4 }
        x[7] = 127
        x[8] = 2.5; x[9] = 3.5; x[10] = -2.5
        let bytes = S.quantize(.q8_K, x)
        XCTAssertEqual(bytes.count, 2 * 292)
        let d = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Float.self) }
        XCTAssertEqual(d, -1)
        let qs = bytes[4..<260].map { Int(Int8(bitPattern: $0)) }
        XCTAssertEqual(Array(qs[0..<12]), [4, 3, 2, 1, 0, -1, -2, -127, -2, -4, 2, -7])
        for g in 0..<16 {
            let stored = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 260 + 2 * g, as: Int16.self)) }
            XCTAssertEqual(stored, qs[16 * g ..< 16 * g + 16].reduce(0, +), "bsums[\(g)]")
        }
        XCTAssertEqual(Array(bytes[292...]), [UInt8](repeating: 0, count: 292))
        // Activations are quantized the same way (llama.cpp's x86 build uses the reference).
        var act = [UInt8](repeating: 0xCD, count: 2 * 292)
        x.withUnsafeBufferPointer { src in act.withUnsafeMutableBytes { Q8_KFormat.quantizeActivationRow(src: src.baseAddress!, dst: $0.baseAddress!, count: 512) } }
        XCTAssertEqual(act, bytes)
    }

    /// test-quantize-fns' dot check: weights quantized with the reference quantizer,
    /// activations to Q8_K, dot against the float dot of the originals:
    /// |error|/n ≤ 0.02 (Q2_K: 0.04, ggml's "low-bit" bound).
    func testDotProductErrorBound() {
        let n = 32 * 128
        let w = S.synthetic(n), a = S.synthetic(n, offset: 1)
        var exact = 0.0
        for i in 0..<n { exact += Double(w[i]) * Double(a[i]) }
        let aq = activations(a)
        for t in Self.weightTypes {
            let f = BlockFormats.format(for: t)!
            let wq = S.quantize(t, w)
            let ref = dot(f.dotReference, wq, aq, n), fast = dot(f.dot, wq, aq, n)
            let err = abs(Double(ref) - exact) / Double(n)
            print("dot \(t.name): error/n \(err)")
            XCTAssertLessThanOrEqual(err, t == .q2_K ? 0.04 : 0.02, t.name)
            XCTAssertEqual(ref.bitPattern, fast.bitPattern, t.name)
        }
    }

    /// SIMD == reference, bit for bit, on quantized random rows and on random bytes
    /// (every bit pattern of codes and scales, with finite fp16 scales), several
    /// lengths; and both equal the float dot of the dequantized rows to rounding.
    func testFastDotEqualsReferenceOnRandomData() {
        var rng = SplitMix(2024)
        for t in Self.weightTypes + [.q8_K] {
            let f = BlockFormats.format(for: t)!
            for n in [256, 768, 2048] {
                let aq = activations(rng.floats(n, in: -4...4))
                let quantized = S.quantize(t, rng.floats(n, in: -1.5...1.5))
                var noise = (0..<t.rowBytes(n)!).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                sanitizeScales(t, &noise, blocks: n / 256, &rng)
                for wq in [quantized, noise] {
                    let ref = dot(f.dotReference, wq, aq, n), fast = dot(f.dot, wq, aq, n)
                    XCTAssertEqual(ref.bitPattern, fast.bitPattern, "\(t.name) n=\(n): \(ref) vs \(fast)")
                    let wd = S.dequantize(t, wq, count: n), ad = S.dequantize(.q8_K, aq, count: n)
                    var plain = 0.0, magnitude = 0.0
                    for i in 0..<n { plain += Double(wd[i]) * Double(ad[i]); magnitude += abs(Double(wd[i]) * Double(ad[i])) }
                    XCTAssertEqual(Double(ref), plain, accuracy: 1e-5 * magnitude + 1e-6, "\(t.name) n=\(n)")
                }
            }
        }
    }

    /// matmul through ComputeContext for K-quant weights, n = 1 (decode) and 5
    /// (prefill), reference and fast modes, Q8_K and f32 activations, against a plain
    /// double loop over the dequantized weights. The q8 bound is the activation
    /// rounding: each activation moves by at most d/2 = amax(block)/254, so
    /// |error| ≤ Σ|w|·amax/254 per output (+ float rounding).
    func testMatmulAgainstDequantizedLoop() {
        let rows = 19, cols = 512
        for type in Self.weightTypes {
            let m = TestMatrix(type, rows: rows, cols: cols, seed: 7)
            let weights = (0..<rows).map { m.dequantizedRow($0) }
            for n in [1, 5] {
                var rng = SplitMix(UInt64(n))
                let x = rng.floats(n * cols, in: -3...3)
                var results: [String: [Float]] = [:]
                for mode in [KernelMode.reference, .fast] {
                    for act in [ActivationPrecision.q8, .f32] {
                        let ctx = ComputeContext(threads: 2, mode: mode, activations: act)
                        ctx.minParallelWork = 0   // small test matrices still go through the pool
                        var y = [Float](repeating: .nan, count: rows * n)
                        m.with { w in x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { ctx.matmul(w, xp.baseAddress!, $0.baseAddress!, n: n) } } }
                        results["\(mode)/\(act)"] = y
                        for t in 0..<n {
                            for r in 0..<rows {
                                var exact = 0.0, absSum = 0.0, bound = 0.0
                                for b in 0..<cols / 256 {
                                    var amax: Float = 0
                                    for c in 256 * b ..< 256 * (b + 1) { amax = max(amax, abs(x[t * cols + c])) }
                                    for c in 256 * b ..< 256 * (b + 1) {
                                        let wv = Double(weights[r][c]), xv = Double(x[t * cols + c])
                                        exact += wv * xv
                                        absSum += abs(wv * xv)
                                        bound += abs(wv) * Double(amax) / 254
                                    }
                                }
                                let tolerance = (act == .q8 ? bound * 1.001 : 0) + 1e-5 * absSum
                                XCTAssertEqual(Double(y[t * rows + r]), exact, accuracy: tolerance, "\(type.name) \(mode) \(act) n=\(n) t=\(t) r=\(r)")
                            }
                        }
                    }
                }
                // The integer path is bit-identical across modes (and threads).
                XCTAssertEqual(results["reference/q8"]!.map(\.bitPattern), results["fast/q8"]!.map(\.bitPattern), type.name)
            }
        }
    }

    // MARK: - helpers

    private func activations(_ a: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: GGMLType.q8_K.rowBytes(a.count)!)
        a.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { Q8_KFormat.quantizeActivationRow(src: src.baseAddress!, dst: $0.baseAddress!, count: a.count) }
        }
        return out
    }

    private func dot(_ f: (UnsafeRawPointer, UnsafeRawPointer, Int) -> Float, _ w: [UInt8], _ a: [UInt8], _ n: Int) -> Float {
        w.withUnsafeBytes { wp in a.withUnsafeBytes { f(wp.baseAddress!, $0.baseAddress!, n) } }
    }

    /// Overwrites the float scales of random blocks with finite values of a sane size:
    /// fp16 d (and dmin) in ±[2^-14, 2), Q8_K's f32 d in ±[0, 1).
    private func sanitizeScales(_ t: GGMLType, _ bytes: inout [UInt8], blocks: Int, _ rng: inout SplitMix) {
        let halfOffsets: [Int] = switch t {
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: []
        }
        for b in 0..<blocks {
            let base = b * t.blockBytes
            for o in halfOffsets {
                let h = floatToHalf(rng.float(in: -2...2))
                bytes[base + o] = UInt8(h & 0xFF); bytes[base + o + 1] = UInt8(h >> 8)
            }
            if t == .q8_K {
                let d = rng.float(in: -1...1).bitPattern
                for k in 0..<4 { bytes[base + k] = UInt8(truncatingIfNeeded: d >> (8 * k)) }
            }
        }
    }
}
