import XCTest
import Foundation
import LMEngine

/// Scratch timing (no assertions): runs only with LMLAB_BENCH=1.
final class KernelSpeedScratch: XCTestCase {
    func testSpeedScratch() throws {
        guard let filter = ProcessInfo.processInfo.environment["LMLAB_BENCH"] else { throw XCTSkip("LMLAB_BENCH not set") }
        let threadList = (ProcessInfo.processInfo.environment["LMLAB_BENCH_THREADS"] ?? "1,2").split(separator: ",").map { Int($0)! }
        let cases: [(GGMLType, Int, Int, Int)] = [
            (.q4_1, 576, 576, 1), (.q4_1, 576, 1536, 1), (.q4_1, 1536, 576, 1), (.q4_1, 576, 576, 32),
            (.q4_0, 576, 576, 1), (.q4_0, 576, 576, 32),
            (.q8_0, 576, 49152, 1), (.q8_0, 576, 576, 32),
            (.q5_0, 576, 576, 1), (.q5_1, 576, 576, 1),
            (.q8_0, 576, 1536, 128), (.q4_0, 576, 1536, 128), (.q4_1, 576, 1536, 128), (.q4_K, 1536, 1536, 128),
            (.q4_K, 1536, 1536, 1), (.q4_K, 1536, 1536, 32), (.q6_K, 1536, 1536, 1), (.q6_K, 1536, 1536, 32),
            (.q5_K, 1536, 1536, 1), (.q5_K, 1536, 1536, 32), (.q5_K, 1536, 1536, 128), (.q6_K, 1536, 1536, 128),
        ]
        for act in [ActivationPrecision.q8] {
            for (type, cols, rows, n) in cases {
                let m = TestMatrix(type, rows: rows, cols: cols, seed: 1)
                var rng = SplitMix(2)
                let x = rng.floats(n * cols)
                var y = [Float](repeating: 0, count: rows * n)
                var line = "\(type.name) \(cols)->\(rows) n=\(n) \(act):"
                if filter != "1" && !line.contains(filter) { continue }
                for threads in threadList {
                    let ctx = ComputeContext(threads: threads, mode: .fast, activations: act)
                    let iters = max(5, 4_000_000 / (rows * cols * n / 32))
                    var best = Double.infinity
                    m.with { w in let w = w.interleavedForKernels(); x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                        for _ in 0..<3 { ctx.matmul(w, xp.baseAddress!, yp.baseAddress!, n: n) }
                        for _ in 0..<5 {
                            let t0 = DispatchTime.now().uptimeNanoseconds
                            for _ in 0..<iters { ctx.matmul(w, xp.baseAddress!, yp.baseAddress!, n: n) }
                            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(iters) / 1000
                            best = min(best, dt)
                        }
                    } } }
                    let gflops = 2.0 * Double(rows * cols * n) / best / 1000
                    line += String(format: "  %dT %.1f us (%.1f GFLOP/s)", threads, best, gflops)
                }
                print(line)
            }
        }
    }

    /// Decode streaming rate on matrices far bigger than any cache (random bytes: the speed
    /// does not depend on the values). LMLAB_BENCH=stream.
    func testStreamScratch() throws {
        guard ProcessInfo.processInfo.environment["LMLAB_BENCH"] == "stream" else { throw XCTSkip("LMLAB_BENCH=stream not set") }
        for (type, rows) in [(GGMLType.q4_K, 196_608), (.q5_K, 163_840), (.q6_K, 131_072), (.q8_0, 98_304), (.q4_0, 196_608),
                             (.q4_1, 163_840), (.q5_0, 163_840)] {
            let cols = 2048, rb = type.rowBytes(cols)!
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: rows * rb, alignment: 64)
            var state: UInt64 = 1
            for i in 0..<(rows * rb / 8) { state = state &* 6364136223846793005 &+ 1; bytes.storeBytes(of: state >> 1 & 0x3BFF_3BFF_3BFF_3BFF, toByteOffset: 8 * i, as: UInt64.self) }
            let w = WeightMatrix(type: type, rows: rows, cols: cols, data: bytes).interleavedForKernels()
            var x = [Float](repeating: 0.5, count: cols), y = [Float](repeating: 0, count: rows)
            var line = "\(type.name) \(rows)x\(cols) \((rows * rb) >> 20) MiB:"
            for threads in [1, 2] {
                let ctx = ComputeContext(threads: threads, mode: .fast, activations: .q8)
                var best = Double.infinity
                x.withUnsafeMutableBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                    for _ in 0..<5 {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        ctx.matmul(w, xp.baseAddress!, yp.baseAddress!, n: 1)
                        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                    }
                } }
                line += String(format: "  %dT %.1f GB/s", threads, Double(rows * rb) / best / 1e9)
            }
            print(line)
            bytes.deallocate()
        }
    }
}
