import Foundation
import XCTest
import LMEngine

/// K-quants (Q2_K … Q6_K) and their Q8_K activations: layouts, ggml's reference
/// quantizers on real and synthetic data, and the dot products.
final class KQuantFormatTests: XCTestCase {
    typealias S = QuantTestSupport
    static let weightTypes: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    /// Sizes from ggml-common.h: Q2_K 84, Q3_K 110, Q4_K 144, Q5_K 176, Q6_K 210, Q8_K 292;
    /// quantizing one super-block writes exactly that many bytes.
    func testLayoutsMatchGGMLType() {
        let expected: [GGMLType: Int] = [.q2_K: 84, .q3_K: 110, .q4_K: 144, .q5_K: 176, .q6_K: 210, .q8_K: 292]
        for t in Self.weightTypes + [.q8_K] {
            let f = BlockFormats.format(for: t)
            XCTAssertNotNil(f, t.name)
            XCTAssertEqual(f?.type, t)
            XCTAssertEqual(t.blockSize, 256)
            XCTAssertEqual(t.blockBytes, expected[t], t.name)
            XCTAssertEqual(f?.activationType, .q8_K, t.name)
            let x = S.synthetic(256)
            var buffer = [UInt8](repeating: 0xAB, count: t.blockBytes + 8)
            x.withUnsafeBufferPointer { src in
                buffer.withUnsafeMutableBytes { BlockFormats.quantizeRow(t, src: src.baseAddress!, dst: $0.baseAddress!, count: 256) }
            }
            XCTAssertEqual(Array(buffer.suffix(8)), [UInt8](repeating: 0xAB, count: 8), t.name)
        }
    }

    /// Real Q4_K and Q6_K tensors of Gemma-3-270M (made by llama-quantize without an
    /// imatrix, i.e. by ggml's reference quantizers): dequantize rows and requantize them.
    ///
    /// This is not an identity, in ggml either (our bytes equal those of a C build of
    /// ggml-quants.c on these same inputs): the per-sub-block searches try a fixed set
    /// of trial scales around the data's range (Q6_K: max/(32 + 0.1k); Q4_K: 21 grids
    /// refit by weighted least squares), and the scale the file stores is usually but
    /// not always the best among them for its own lattice points; Q6_K's (d, scales)
    /// and (-d, -scales) also describe the same values. So the test checks that
    /// nearly all blocks come back byte for byte, and that every sub-block whose
    /// effective scale (and min) comes back also gets the same codes, i.e. values.
    func testRequantizingRealQ4_KRows() throws {
        let file = try GGUFFile(url: TestPaths.model("gemma-3-270m-q4_k_m.gguf"))
        try checkRequantizing(file, .q4_K, minimumExact: 0.99, subBlock: 32) { block, s in
            let (sc, m) = Self.scaleMinK4(s, Array(block[4..<16]))
            return [halfToFloat(UInt16(block[0]) | UInt16(block[1]) << 8) * Float(sc),
                    halfToFloat(UInt16(block[2]) | UInt16(block[3]) << 8) * Float(m)]
        }
    }

    func testRequantizingRealQ6_KRows() throws {
        let file = try GGUFFile(url: TestPaths.model("gemma-3-270m-q4_k_m.gguf"))
        try checkRequantizing(file, .q6_K, minimumExact: 0.8, subBlock: 16) { block, s in
            [halfToFloat(UInt16(block[208]) | UInt16(block[209]) << 8) * Float(Int8(bitPattern: block[192 + s]))]
        }
    }

    /// Q4_K/Q5_K's 6-bit scale and min of sub-block j from the 12-byte table
    /// (ggml's get_scale_min_k4), decoded independently of the engine.
    static func scaleMinK4(_ j: Int, _ q: [UInt8]) -> (Int, Int) {
        if j < 4 { return (Int(q[j] & 63), Int(q[j + 4] & 63)) }
        return (Int(q[j + 4] & 0xF | (q[j - 4] >> 6) << 4), Int(q[j + 4] >> 4 | (q[j] >> 6) << 4))
    }

    private func checkRequantizing(_ file: GGUFFile, _ type: GGMLType, minimumExact: Double, subBlock: Int,
                                   effectiveScale: ([UInt8], Int) -> [Float]) throws {
        var subBlocks = 0, sameScale = 0
        let (same, blocks, firstDiff) = requantize(file, type) { original, again, x in
            let y = S.dequantize(type, again, count: 256)
            for s in 0..<256 / subBlock {
                subBlocks += 1
                guard effectiveScale(original, s) == effectiveScale(again, s) else { continue }
                sameScale += 1
                let r = subBlock * s ..< subBlock * (s + 1)
                XCTAssertEqual(Array(x[r]), Array(y[r]), "\(type.name) sub-block \(s)")
            }
        }
        print("\(type.name): \(same)/\(blocks) blocks and \(sameScale)/\(subBlocks) sub-block scales reproduced")
        if let firstDiff { print("first difference: \(firstDiff)") }
        XCTAssertGreaterThan(blocks, 500)
        XCTAssertGreaterThanOrEqual(Double(same), minimumExact * Double(blocks), type.name)
        XCTAssertGreaterThanOrEqual(Double(sameScale), 0.98 * Double(subBlocks), type.name)
    }

    /// Requantizes sampled rows of the first tensors of `type` in `file`; calls
    /// `check(original block, requantized block, dequantized block values)` per block
    /// and returns (blocks equal, blocks, the first difference).
    private func requantize(_ file: GGUFFile, _ type: GGMLType,
                            check: ([UInt8], [UInt8], [Float]) -> Void) -> (Int, Int, String?) {
        let tensors = file.tensors.filter { $0.type == type }
        XCTAssertFalse(tensors.isEmpty, type.name)
        var blocks = 0, same = 0
        var firstDiff: String?
        for info in tensors.prefix(12) {
            let cols = info.dims[0], rowBytes = type.rowBytes(cols)!
            let base = file.pointer(to: info)
            for r in stride(from: 0, to: info.rowCount, by: max(1, info.rowCount / 16)) {
                let original = [UInt8](UnsafeRawBufferPointer(start: base + r * rowBytes, count: rowBytes))
                let x = S.dequantize(type, original, count: cols)
                let again = S.quantize(type, x)
                for b in 0..<cols / 256 {
                    let range = b * type.blockBytes ..< (b + 1) * type.blockBytes
                    blocks += 1
                    if original[range] == again[range] { same += 1 } else if firstDiff == nil {
                        firstDiff = "\(info.name) row \(r) block \(b):\n \(S.hex(Array(original[range])))\n \(S.hex(Array(again[range])))"
                    }
                    check(Array(original[range]), Array(again[range]), Array(x[b * 256 ..< (b + 1) * 256]))
                }
            }
        }
        return (same, blocks, firstDiff)
    }
}
