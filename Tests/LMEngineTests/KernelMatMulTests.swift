import XCTest
import LMEngine

/// A weight matrix with its bytes kept alive by the test.
final class TestMatrix {
    let type: GGMLType, rows: Int, cols: Int
    var bytes: [UInt8]
    var floats: [Float]   // the source values before quantization, [rows × cols]
    init(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) {
        self.type = type; self.rows = rows; self.cols = cols
        var rng = SplitMix(seed)
        floats = (0..<rows * cols).map { _ in rng.float(in: -1...1) }
        bytes = []
        for r in 0..<rows { bytes += QuantTestSupport.quantize(type, Array(floats[r * cols..<(r + 1) * cols])) }
    }
    func with<R>(_ body: (WeightMatrix) -> R) -> R {
        bytes.withUnsafeBytes { body(WeightMatrix(type: type, rows: rows, cols: cols, data: $0.baseAddress!)) }
    }
    /// Row r as the kernels see it.
    func dequantizedRow(_ r: Int) -> [Float] {
        let rb = type.rowBytes(cols)!
        return QuantTestSupport.dequantize(type, Array(bytes[r * rb..<(r + 1) * rb]), count: cols)
    }
}

/// Small deterministic generator so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func float(in range: ClosedRange<Float>) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] { (0..<n).map { _ in float(in: range) } }
}

final class KernelMatMulTests: XCTestCase {
    /// The plain Q4_0 dot (`blockDotReference`) and the SIMD one are bit-identical on random
    /// blocks: random code bytes (every nibble value), random fp16 scales over a wide range
    /// of magnitudes and both signs, against random Q8_0 blocks, for rows of 1 to 40 blocks.
    /// Activation codes are random in −127…127: the activation quantizer never writes −128
    /// (its multiplier is 127/max), and the SIMD kernels' sign trick, like llama.cpp's,
    /// relies on that (−(−128) does not fit a byte).
    func testPlainQ4_0DotEqualsSIMDOnRandomBlocks() {
        var rng = SplitMix(41)
        func half(_ rng: inout SplitMix) -> [UInt8] {
            let value = rng.float(in: -1...1) * Float(1 << Int(rng.next() % 20)) / 4096   // ~2^-12 … 2^7
            let bits = floatToHalf(value)
            return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        }
        var checked = 0, nonzero = 0
        for blocks in [1, 2, 3, 7, 8, 40] {
            for _ in 0..<25 {
                var w: [UInt8] = [], a: [UInt8] = []
                for _ in 0..<blocks {
                    w += half(&rng) + (0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    a += half(&rng) + (0..<32).map { _ in UInt8(bitPattern: Int8(Int(rng.next() % 255) - 127)) }
                }
                XCTAssertEqual(w.count, GGMLType.q4_0.rowBytes(32 * blocks))
                XCTAssertEqual(a.count, GGMLType.q8_0.rowBytes(32 * blocks))
                let (plain, simd) = w.withUnsafeBytes { wp in
                    a.withUnsafeBytes { ap in
                        (Q4_0Format.dotReference(wp.baseAddress!, ap.baseAddress!, count: 32 * blocks),
                         Q4_0Format.dot(wp.baseAddress!, ap.baseAddress!, count: 32 * blocks))
                    }
                }
                XCTAssertEqual(plain.bitPattern, simd.bitPattern, "\(blocks) blocks: \(plain) vs \(simd)")
                checked += 1
                if plain != 0 { nonzero += 1 }
            }
        }
        XCTAssertEqual(checked, 150)
        XCTAssertGreaterThan(nonzero, 140)
    }

    /// The plain Q4_0 dot is the sum it claims: for one block it equals d_w·d_a·Σ (nibble − 8)·c
    /// computed here from the bytes in double (exact for one block's integer sum).
    func testPlainQ4_0DotOfOneBlockByHand() {
        // d_w = 0.5 (0x3800), codes: byte j = (j & 15) | ((15 - j) << 4); d_a = 0.25 (0x3400), c_j = j - 16.
        let w: [UInt8] = [0x00, 0x38] + (0..<16).map { UInt8($0 & 15) | UInt8((15 - $0) << 4) }
        let a: [UInt8] = [0x00, 0x34] + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
        var sum = 0
        for j in 0..<32 {
            let nibble = j < 16 ? Int(w[2 + j] & 0x0F) : Int(w[2 + j - 16] >> 4)
            sum += (nibble - 8) * (j - 16)
        }
        let expected = Float(0.5 * 0.25 * Double(sum))
        let got = w.withUnsafeBytes { wp in a.withUnsafeBytes { Q4_0Format.dotReference(wp.baseAddress!, $0.baseAddress!, count: 32) } }
        XCTAssertEqual(got, expected)
        XCTAssertNotEqual(sum, 0)
    }

    let types: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1]

    func run(_ m: TestMatrix, _ x: [Float], n: Int, mode: KernelMode, activations: ActivationPrecision, threads: Int = 2) -> [Float] {
        let ctx = ComputeContext(threads: threads, mode: mode, activations: activations)
        ctx.minParallelWork = 0   // small test matrices still go through the pool
        var y = [Float](repeating: .nan, count: m.rows * n)
        m.with { w in x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { ctx.matmul(w, xp.baseAddress!, $0.baseAddress!, n: n) } } }
        return y
    }

    /// Reference and fast agree: bit for bit with 8-bit activations for the 32-element
    /// formats and Q4_K/Q6_K (both write llama.cpp's float order, decode and prefill),
    /// to float rounding otherwise.
    func testFastEqualsReference() {
        for type in types {
            for n in [1, 7] {
                let m = TestMatrix(type, rows: 37, cols: 160, seed: 11)
                var rng = SplitMix(99)
                let x = rng.floats(n * 160, in: -3...3)
                for act in [ActivationPrecision.q8, .f32] {
                    let ref = run(m, x, n: n, mode: .reference, activations: act)
                    let fast = run(m, x, n: n, mode: .fast, activations: act)
                    XCTAssertFalse(ref.contains { $0.isNaN }, "every output written")
                    if act == .q8 && (type.blockSize == 32 || type == .q4_K || type == .q6_K) {
                        XCTAssertEqual(ref.map(\.bitPattern), fast.map(\.bitPattern), "\(type.name) n=\(n) q8")
                    } else {
                        for i in ref.indices { XCTAssertEqual(ref[i], fast[i], accuracy: 1e-4 * max(1, abs(ref[i])), "\(type.name) n=\(n) \(act) [\(i)]") }
                    }
                }
            }
        }
    }

    /// The f32 path computes Σ dequant(W)[r,c]·x[c] (checked against a naive loop in
    /// double); the q8 path stays close to it.
    func testMatmulAgainstNaiveLoop() {
        for type in types {
            let rows = 13, cols = 96, n = 3
            let m = TestMatrix(type, rows: rows, cols: cols, seed: 5)
            var rng = SplitMix(7)
            let x = rng.floats(n * cols)
            let yF32 = run(m, x, n: n, mode: .fast, activations: .f32)
            let yQ8 = run(m, x, n: n, mode: .fast, activations: .q8)
            for r in 0..<rows {
                let w = m.dequantizedRow(r)
                for t in 0..<n {
                    var expected = 0.0
                    for c in 0..<cols { expected += Double(w[c]) * Double(x[t * cols + c]) }
                    XCTAssertEqual(Double(yF32[t * rows + r]), expected, accuracy: 1e-4, "\(type.name) f32 r=\(r) t=\(t)")
                    // Activation rounding: 8-bit (or f16/bf16) relative error ~1/254 per element.
                    XCTAssertEqual(Double(yQ8[t * rows + r]), expected, accuracy: 0.05, "\(type.name) q8 r=\(r) t=\(t)")
                }
            }
        }
    }

    /// Prefill (n > 1) gives the same numbers as n separate decode calls (up to the
    /// summation order of decode's lanes), and the thread count does not change the result.
    func testBatchAndThreadCountDoNotChangeResults() {
        let m = TestMatrix(.q4_1, rows: 101, cols: 64, seed: 3)
        var rng = SplitMix(4)
        let n = 5
        let x = rng.floats(n * 64)
        let batched = run(m, x, n: n, mode: .fast, activations: .q8, threads: 2)
        for t in 0..<n {
            let single = run(m, Array(x[t * 64..<(t + 1) * 64]), n: 1, mode: .fast, activations: .q8, threads: 3)
            for (a, b) in zip(single, batched[t * 101..<(t + 1) * 101]) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        }
        let one = run(m, x, n: n, mode: .fast, activations: .q8, threads: 1)
        XCTAssertEqual(one, batched)
    }

    func testThreadsCanBeResizedAndParallelForCoversEveryIndexOnce() {
        let ctx = ComputeContext(threads: 2)
        ctx.minParallelWork = 0   // small test matrices still go through the pool
        for threads in [1, 3, 2] {
            ctx.threads = threads
            XCTAssertEqual(ctx.threads, threads)
            for count in [0, 1, 2, 5, 1000] {
                var hits = [Int](repeating: 0, count: count)
                hits.withUnsafeMutableBufferPointer { h in
                    let p = h.baseAddress!
                    ctx.parallelFor(count) { p[$0] += 1 }   // each index is touched by one thread only
                }
                XCTAssertEqual(hits, [Int](repeating: 1, count: count))
            }
        }
    }

    func testEmbeddingRowIsTheDequantizedRow() {
        for type in types {
            let m = TestMatrix(type, rows: 9, cols: 64, seed: 8)
            var out = [Float](repeating: .nan, count: 64)
            m.with { w in out.withUnsafeMutableBufferPointer { embeddingRow(w, token: 6, out: $0.baseAddress!) } }
            XCTAssertEqual(out, m.dequantizedRow(6), type.name)
            XCTAssertEqual(Double(out[0]), Double(m.floats[6 * 64]), accuracy: 0.1, type.name)
        }
    }
}
