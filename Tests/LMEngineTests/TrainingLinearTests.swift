import XCTest
import LMEngine

/// The trainer's Float linear and its backward run in register tiles (TrainingOps.linearF32 and
/// accumulateF32); they must give the plain loops' bits exactly: for shapes that leave tails of
/// the 16- and 32-wide blocks, single tokens and rows, more k's than one cache block; with exact
/// zeros in dy (skipped, not added), ±0 in the gradients they add into, an infinity in w and x;
/// and with any thread count.
final class TrainingLinearTests: XCTestCase {
    /// (n, rows, cols)
    let shapes = [(1, 1, 1), (1, 16, 32), (2, 16, 16), (3, 17, 5), (5, 33, 47), (7, 16, 48), (9, 48, 95),
                  (2, 1, 200), (4, 4, 16), (6, 35, 70), (13, 50, 113), (11, 19, 31), (2, 32, 15),
                  (130, 20, 33), (8, 130, 64), (16, 96, 96)]

    func testTiledLinearAndBackwardAreBitIdenticalToReference() {
        let reference = ComputeContext(threads: 1)
        for (n, rows, cols) in shapes {
            for special in [false, true] {
                var rng = SeededRandom(seed: UInt64(n * 1_000_000 + rows * 1000 + cols))
                var x = floats(n * cols, &rng), w = floats(rows * cols, &rng)
                var dy = floats(n * rows, &rng, zeros: 0.3)
                for o in 0..<rows { dy[o] = 0 }   // a token with no gradient at all, as tiny-math's unscored ones
                let dxStart = floats(n * cols, &rng, zeros: 0.2), dwStart = floats(rows * cols, &rng, zeros: 0.2)
                if special { w[w.count / 2] = .infinity; x[x.count - 1] = -.infinity }

                var y = [Float](repeating: .nan, count: n * rows), dx = dxStart, dw = dwStart
                TrainingOps.linearReference(x, w, &y, n: n, rows: rows, cols: cols, compute: reference)
                TrainingOps.linearBackwardReference(x, w, dy, dx: &dx, dw: &dw, n: n, rows: rows, cols: cols, compute: reference)
                var dwOnly = dwStart
                TrainingOps.linearBackwardReference(x, w, dy, dx: nil, dw: &dwOnly, n: n, rows: rows, cols: cols, compute: reference)

                for threads in [1, 2, 3] {
                    let compute = ComputeContext(threads: threads)
                    let what = "n=\(n) rows=\(rows) cols=\(cols)\(special ? " with ±∞" : "") threads=\(threads)"
                    var fastY = [Float](repeating: .nan, count: n * rows), fastDx = dxStart, fastDw = dwStart
                    TrainingOps.linear(x, w, &fastY, n: n, rows: rows, cols: cols, compute: compute)
                    TrainingOps.linearBackward(x, w, dy, dx: &fastDx, dw: &fastDw, n: n, rows: rows, cols: cols, compute: compute)
                    var fastDwOnly = dwStart
                    TrainingOps.linearBackward(x, w, dy, dx: nil, dw: &fastDwOnly, n: n, rows: rows, cols: cols, compute: compute)
                    assertSameBits(fastY, y, "y, \(what)")
                    assertSameBits(fastDx, dx, "dx, \(what)")
                    assertSameBits(fastDw, dw, "dw, \(what)")
                    assertSameBits(fastDwOnly, dwOnly, "dw without dx, \(what)")
                }
            }
        }
    }

    /// Normal floats with a share of exact zeros, half of them −0.
    private func floats(_ count: Int, _ rng: inout SeededRandom, zeros: Double = 0) -> [Float] {
        (0..<count).map { _ in
            let value = Float(rng.normal())
            return rng.unit() < zeros ? (value < 0 ? -0.0 : 0) : value
        }
    }

    private func assertSameBits(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(what): \(differing) of \(a.count) values differ", file: file, line: line)
    }
}
