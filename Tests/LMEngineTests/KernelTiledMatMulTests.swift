import XCTest
import LMEngine

/// The prefill path dots each weight row against four activation rows at a time
/// (QuantDot.swift): every n ≥ 4, including those that leave a remainder of 1–3 tokens,
/// must give the reference's bits, with any thread count. (n < 4 is decode, which sums
/// in SIMD lanes: equal to float rounding, checked in KernelMatMulTests.)
final class KernelTiledMatMulTests: XCTestCase {
    func testTiledPrefillIsBitIdenticalToReference() {
        for type in [GGMLType.q4_0, .q4_1, .q8_0, .q5_0, .q5_1] {
            let m = TestMatrix(type, rows: 23, cols: 192, seed: 21)
            for n in [1, 2, 4, 5, 6, 7, 8, 9, 13] {
                var rng = SplitMix(UInt64(n))
                let x = rng.floats(n * 192, in: -4...4)
                let ref = run(m, x, n: n, mode: .reference, threads: 1)
                for threads in [1, 2, 3] {
                    for vnni in vnniChoices {
                        let fast = run(m, x, n: n, mode: .fast, threads: threads, vnni: vnni)
                        XCTAssertEqual(ref.map(\.bitPattern), fast.map(\.bitPattern), "\(type.name) n=\(n) threads=\(threads) vnni=\(vnni)")
                    }
                }
            }
        }
    }

    /// Q4_K and Q6_K prefill dots four tokens of a row at once (`dotTokens4`): every n,
    /// with remainders, any thread count and both orders of each (llama.cpp's four-token
    /// gemm for Q4_K or tiled kernel for Q6_K, and decodeOrder's one-token order), gives
    /// the reference's bits.
    func testKQuantTokenTilesAreBitIdenticalToReference() {
        for type in [GGMLType.q4_K, .q5_K, .q6_K] {
            let m = TestMatrix(type, rows: 23, cols: 768, seed: 33)
            for n in [1, 3, 4, 5, 7, 8, 9, 13] {
                var rng = SplitMix(UInt64(100 + n))
                let x = rng.floats(n * 768, in: -4...4)
                for decodeOrder in [false, true] {
                    let ref = run(m, x, n: n, mode: .reference, threads: 1, decodeOrder: decodeOrder)
                    for threads in [1, 2, 3] {
                        for vnni in vnniChoices {
                            let fast = run(m, x, n: n, mode: .fast, threads: threads, decodeOrder: decodeOrder, vnni: vnni)
                            XCTAssertEqual(ref.map(\.bitPattern), fast.map(\.bitPattern),
                                           "\(type.name) n=\(n) threads=\(threads) decodeOrder=\(decodeOrder) vnni=\(vnni)")
                        }
                    }
                }
                // The two orders really differ somewhere, or the check above proves little: Q4_K's
                // four-token gemm from 4 tokens on, Q5_K's and Q6_K's tiled kernel from 8.
                if (type == .q4_K && n >= 4) || (type != .q4_K && n >= ComputeContext.tiledKQuantRows) {
                    let batch = run(m, x, n: n, mode: .reference, threads: 1, decodeOrder: false)
                    let oneByOne = run(m, x, n: n, mode: .reference, threads: 1, decodeOrder: true)
                    XCTAssertNotEqual(batch.map(\.bitPattern), oneByOne.map(\.bitPattern), "\(type.name) n=\(n): the two orders")
                }
            }
        }
    }

    /// Q4_0 matrices with a multiple of 8 rows get an interleaved copy (`interleavedForKernels`)
    /// and kernels of their own, eight rows at a time: decode and prefill, every remainder,
    /// any thread count (whole groups per thread), and a fused matrix's row ranges
    /// (`rows(_:)`, phi3) give the reference's bits, which sums the rows as the file has them.
    func testInterleavedIsBitIdenticalToReference() {
        for rows in [8, 40] {
            let m = TestMatrix(.q4_0, rows: rows, cols: 256, seed: 77)
            for n in [1, 2, 3, 4, 5, 7, 8, 9, 13] {
                var rng = SplitMix(UInt64(200 + n))
                let x = rng.floats(n * 256, in: -4...4)
                let ref = run(m, x, n: n, mode: .reference, threads: 1)
                for threads in [1, 2, 3] {
                    let fast = run(m, x, n: n, mode: .fast, threads: threads, interleave: true)
                    XCTAssertEqual(ref.map(\.bitPattern), fast.map(\.bitPattern), "rows=\(rows) n=\(n) threads=\(threads)")
                }
            }
        }
        // Q4_K, Q5_K and Q6_K: interleaved sixteen rows at a time on CPUs with the VNNI
        // kernels, in both of llama.cpp's orders (Q4_K: four-token gemm, one-token gemv; Q5_K,
        // Q6_K: the tiled kernel's from 8 rows, the lanes' below).
        if CPUFeatures.vnni {
            for type in [GGMLType.q4_K, .q5_K, .q6_K] {
            for rows in [16, 48] {
                let m = TestMatrix(type, rows: rows, cols: 512, seed: 79)
                XCTAssertNotNil(m.with { $0.interleavedForKernels().interleaved }, "\(type.name), \(rows) rows")
                for n in [1, 3, 4, 5, 8, 9, 13] {
                    var rng = SplitMix(UInt64(300 + n))
                    let x = rng.floats(n * 512, in: -4...4)
                    for decodeOrder in [false, true] {
                        let ref = run(m, x, n: n, mode: .reference, threads: 1, decodeOrder: decodeOrder)
                        for threads in [1, 2, 3] {
                            let fast = run(m, x, n: n, mode: .fast, threads: threads, decodeOrder: decodeOrder, interleave: true)
                            XCTAssertEqual(ref.map(\.bitPattern), fast.map(\.bitPattern),
                                           "\(type.name) rows=\(rows) n=\(n) threads=\(threads) decodeOrder=\(decodeOrder)")
                        }
                    }
                }
            }
            }
            // Q8_0: sixteen rows at a time in the lane order, an odd number of blocks too;
            // without the VNNI kernels (vnni: false) the rows as stored.
            for (rows, cols) in [(16, 256), (48, 96)] {
                let m = TestMatrix(.q8_0, rows: rows, cols: cols, seed: 81)
                XCTAssertNotNil(m.with { $0.interleavedForKernels().interleaved }, "Q8_0, \(rows) rows")
                for n in [1, 2, 3, 4, 5, 6, 7, 8, 9, 13] {
                    var rng = SplitMix(UInt64(400 + n))
                    let x = rng.floats(n * cols, in: -4...4)
                    let ref = run(m, x, n: n, mode: .reference, threads: 1)
                    for threads in [1, 2, 3] {
                        for vnni in [true, false] {
                            let fast = run(m, x, n: n, mode: .fast, threads: threads, interleave: true, vnni: vnni)
                            XCTAssertEqual(ref.map(\.bitPattern), fast.map(\.bitPattern),
                                           "Q8_0 rows=\(rows) n=\(n) threads=\(threads) vnni=\(vnni)")
                        }
                    }
                }
            }
        } else {
            XCTAssertNil(TestMatrix(.q4_K, rows: 16, cols: 256, seed: 1).with { $0.interleavedForKernels().interleaved },
                         "no interleaved Q4_K without the VNNI kernels")
            XCTAssertNil(TestMatrix(.q8_0, rows: 16, cols: 256, seed: 1).with { $0.interleavedForKernels().interleaved },
                         "no interleaved Q8_0 without the VNNI kernels")
        }
        let m = TestMatrix(.q4_0, rows: 40, cols: 128, seed: 78)
        var rng = SplitMix(9)
        let x = rng.floats(5 * 128, in: -4...4)
        m.with { plain in
            let whole = plain.interleavedForKernels()
            XCTAssertNotNil(whole.interleaved, "a Q4_0 matrix of 40 rows is interleaved")
            XCTAssertNil(TestMatrix(.q4_0, rows: 12, cols: 128, seed: 1).with { $0.interleavedForKernels().interleaved },
                         "12 rows are not whole groups of eight")
            XCTAssertNil(TestMatrix(.q5_0, rows: 16, cols: 128, seed: 1).with { $0.interleavedForKernels().interleaved },
                         "Q5_0 is not interleaved")
            for range in [8..<24, 16..<40, 4..<20] {
                let part = whole.rows(range)
                XCTAssertEqual(part.interleaved != nil, range.lowerBound % 8 == 0 && range.count % 8 == 0)
                for n in [1, 5] {
                    let ref = run(plain.rows(range), x, n: n, mode: .reference)
                    let fast = run(part, x, n: n, mode: .fast)
                    XCTAssertEqual(ref.map(\.bitPattern), fast.map(\.bitPattern), "rows \(range) n=\(n)")
                }
            }
        }
    }

    /// Every interleaved layout gives each row back as the file has it (`storedRow`: a
    /// tied head's embedding lookups read the copy), byte for byte, and the embedding
    /// lookup through the copy dequantizes the same floats as through the file's rows.
    func testInterleavedCopiesGiveBackTheStoredRows() {
        var types: [GGMLType] = [.q4_0]
        if CPUFeatures.vnni { types += [.q4_K, .q5_K, .q6_K, .q8_0] }
        for type in types {
            let m = TestMatrix(type, rows: 32, cols: 512, seed: 91)
            m.with { plain in
                let copy = plain.interleavedForKernels()
                XCTAssertNotNil(copy.interleaved, type.name)
                var row = [UInt8](repeating: 0, count: plain.rowBytes)
                for r in 0..<plain.rows {
                    row.withUnsafeMutableBytes { copy.storedRow(r, into: $0.baseAddress!) }
                    XCTAssertEqual(row, Array(UnsafeRawBufferPointer(start: plain.row(r), count: plain.rowBytes)), "\(type.name) row \(r)")
                }
                var a = [Float](repeating: 0, count: 512), b = a
                for token in [0, 17, 31] {
                    a.withUnsafeMutableBufferPointer { embeddingRow(plain, token: token, out: $0.baseAddress!) }
                    b.withUnsafeMutableBufferPointer { embeddingRow(copy, token: token, out: $0.baseAddress!) }
                    XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(type.name) token \(token)")
                }
            }
        }
    }

    /// Scales that are fp16 subnormals, zeros and negative zeros go through the
    /// integer fp16 → fp32 conversion of the fast path: still the reference's bits.
    func testTinyAndZeroScalesMatchReference() {
        for (type, rows) in [(GGMLType.q4_0, 9), (.q4_1, 9), (.q8_0, 9), (.q8_0, 16)] {
            let cols = 128
            var rng = SplitMix(5)
            var floats = rng.floats(rows * cols, in: -1...1)
            for r in 0..<rows {   // rows scaled into fp16's subnormal range, one all zero
                let s: Float = r == 0 ? 0 : (r < 5 ? 1e-6 : 3e-5)
                for c in 0..<cols { floats[r * cols + c] *= s }
            }
            var bytes: [UInt8] = []
            for r in 0..<rows { bytes += QuantTestSupport.quantize(type, Array(floats[r * cols..<(r + 1) * cols])) }
            let x = rng.floats(5 * cols, in: -2...2)
            for n in [1, 5] {
                let ref = run(type, bytes, rows: rows, cols: cols, x: x, n: n, mode: .reference)
                let fast = run(type, bytes, rows: rows, cols: cols, x: x, n: n, mode: .fast)
                if n >= 4 {
                    XCTAssertEqual(ref.map(\.bitPattern), fast.map(\.bitPattern), "\(type.name) n=\(n)")
                } else {
                    for (a, b) in zip(ref, fast) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1e-30, abs(a)), "\(type.name) n=\(n)") }
                    XCTAssertEqual(ref.map { $0 == 0 }, fast.map { $0 == 0 }, "zero rows stay exactly zero")
                }
            }
        }
    }

    /// The AVX2 kernels always; the AVX-VNNI ones too where the CPU has them.
    private var vnniChoices: [Bool] { CPUFeatures.vnni ? [false, true] : [false] }

    private func run(_ m: TestMatrix, _ x: [Float], n: Int, mode: KernelMode, threads: Int, decodeOrder: Bool = false,
                     interleave: Bool = false, vnni: Bool = CPUFeatures.vnni) -> [Float] {
        m.with { w in run(interleave ? w.interleavedForKernels() : w, x, n: n, mode: mode, threads: threads, decodeOrder: decodeOrder, vnni: vnni) }
    }

    private func run(_ w: WeightMatrix, _ x: [Float], n: Int, mode: KernelMode, threads: Int = 2, decodeOrder: Bool = false,
                     vnni: Bool = CPUFeatures.vnni) -> [Float] {
        let ctx = ComputeContext(threads: threads, mode: mode, activations: .q8)
        ctx.decodeOrder = decodeOrder
        ctx.vnni = vnni
        ctx.minParallelWork = 0   // small test matrices still go through the pool
        var y = [Float](repeating: .nan, count: w.rows * n)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { ctx.matmul(w, xp.baseAddress!, $0.baseAddress!, n: n) } }
        return y
    }

    private func run(_ type: GGMLType, _ bytes: [UInt8], rows: Int, cols: Int, x: [Float], n: Int, mode: KernelMode) -> [Float] {
        let ctx = ComputeContext(threads: 2, mode: mode, activations: .q8)
        ctx.minParallelWork = 0   // small test matrices still go through the pool
        var y = [Float](repeating: .nan, count: rows * n)
        bytes.withUnsafeBytes { b in
            // Interleaved where the CPU's kernels take it (Q8_0 × 16 rows on VNNI CPUs).
            let w = WeightMatrix(type: type, rows: rows, cols: cols, data: b.baseAddress!).interleavedForKernels()
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { ctx.matmul(w, xp.baseAddress!, $0.baseAddress!, n: n) } }
        }
        return y
    }
}
