import Foundation
import XCTest
import LMEngine

/// Helpers for the quantization tests: byte buffers for rows of any type.
enum QuantTestSupport {
    static let blockTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q8_1, .q4_0, .q4_1, .q5_0, .q5_1]

    static func quantize(_ type: GGMLType, _ x: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: type.rowBytes(x.count)!)
        x.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBytes { BlockFormats.quantizeRow(type, src: src.baseAddress!, dst: $0.baseAddress!, count: x.count) }
        }
        return bytes
    }

    static func dequantize(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { BlockFormats.dequantizeRow(type, src: src.baseAddress!, dst: $0.baseAddress!, count: count) }
        }
        return out
    }

    /// llama.cpp test-quantize-fns synthetic data: 0.1 + 2·cos(i + offset).
    static func synthetic(_ n: Int, offset: Float = 0) -> [Float] {
        (0..<n).map { 0.1 + 2 * cos(Float($0) + offset) }
    }

    static func rmse(_ a: [Float], _ b: [Float]) -> Double {
        var s = 0.0
        for i in a.indices { let d = Double(a[i]) - Double(b[i]); s += d * d }
        return (s / Double(a.count)).squareRoot()
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

final class QuantFormatTests: XCTestCase {
    typealias S = QuantTestSupport

    /// Layouts documented in each file: block size 32 for the quants, bytes per ggml-common.h.
    func testFormatTableMatchesGGMLType() {
        let expected: [GGMLType: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2), .q8_0: (32, 34), .q8_1: (32, 36),
            .q4_0: (32, 18), .q4_1: (32, 20), .q5_0: (32, 22), .q5_1: (32, 24),
        ]
        for t in S.blockTypes {
            let f = BlockFormats.format(for: t)
            XCTAssertNotNil(f)
            XCTAssertEqual(f?.type, t)
            XCTAssertEqual(t.blockSize, expected[t]!.0, t.name)
            XCTAssertEqual(t.blockBytes, expected[t]!.1, t.name)
            // Quantizing one block writes exactly blockBytes: check nothing beyond is touched.
            let x = S.synthetic(32)
            var buffer = [UInt8](repeating: 0xAB, count: t.rowBytes(32)! + 8)
            x.withUnsafeBufferPointer { src in
                buffer.withUnsafeMutableBytes { BlockFormats.quantizeRow(t, src: src.baseAddress!, dst: $0.baseAddress!, count: 32) }
            }
            XCTAssertEqual(Array(buffer.suffix(8)), [UInt8](repeating: 0xAB, count: 8), t.name)
        }
        XCTAssertFalse(BlockFormats.isSupported(.i8))  // K-quants are covered by KQuantFormatTests
        XCTAssertEqual(Q4_1Format.activationType, .q8_1)
        XCTAssertEqual(Q5_1Format.activationType, .q8_1)
        XCTAssertEqual(Q4_0Format.activationType, .q8_0)
        XCTAssertEqual(Q5_0Format.activationType, .q8_0)
        XCTAssertEqual(Q8_0Format.activationType, .q8_0)
        XCTAssertEqual(F16Format.activationType, .f16)
        XCTAssertEqual(BF16Format.activationType, .bf16)
    }

    /// 0..<128 through Q4_0 (candle's golden case): block b has max m = 32b+31, d = -m/8,
    /// code = trunc(8.5 - 8x/m) (no ties occur), value = (code - 8)·d.
    func testQ4_0KnownAnswerZeroTo127() {
        let x = (0..<128).map(Float.init)
        let bytes = S.quantize(.q4_0, x)
        XCTAssertEqual(bytes[0], 0xC0); XCTAssertEqual(bytes[1], 0xC3)  // d = -31/8 = -3.875 = fp16 0xC3C0, little-endian
        let y = S.dequantize(.q4_0, bytes, count: 128)
        XCTAssertEqual(Array(y[0..<16]), [0, 0, 3.875, 3.875, 3.875, 3.875, 7.75, 7.75, 7.75, 7.75, 11.625, 11.625, 11.625, 11.625, 15.5, 15.5])
        XCTAssertEqual(y[31], 31)
        for i in 0..<128 {
            let m = Double(i / 32 * 32 + 31)
            let code = Int(8.5 - 8 * Double(i) / m)
            XCTAssertEqual(Double(y[i]), Double(code - 8) * (-m / 8), "element \(i)")
        }
    }

    /// Bytes llama.cpp's llama-quantize wrote for real SmolLM2 rows.
    func testFixtureBytesQ8_0AndQ4_0() throws {
        let data = try Data(contentsOf: TestPaths.fixture("smollm2-quant-known-answers.json"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tensors = try XCTUnwrap(json["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.count, 3)
        var checkedRows = 0
        for tensor in tensors {
            let name = tensor["name"] as! String
            let rows = (tensor["rows_f32"] as! [[NSNumber]]).map { $0.map { $0.floatValue } }
            for (key, type) in [("Q8_0", GGMLType.q8_0), ("Q4_0", .q4_0)] {
                let entry = try XCTUnwrap(tensor[key] as? [String: Any])
                XCTAssertEqual(entry["llama_cpp_type"] as? String, type.name)
                let hexRows = entry["rows_hex"] as! [String]
                for (r, row) in rows.enumerated() {
                    XCTAssertEqual((entry["row_bytes"] as! NSNumber).intValue, type.rowBytes(row.count))
                    let ours = S.hex(S.quantize(type, row))
                    if ours != hexRows[r] {
                        let firstDiff = zip(ours, hexRows[r]).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
                        XCTFail("\(name) row \(r) \(key): bytes differ from llama.cpp at hex digit \(firstDiff)")
                    }
                    checkedRows += 1
                }
            }
        }
        XCTAssertEqual(checkedRows, 24)
    }

    /// test-quantize-fns: quantize→dequantize error ≤ 0.002 (MAX_QUANTIZATION_TOTAL_ERROR)
    /// on 0.1 + 2·cos(i), 32×128 values, in ggml's metric sqrt(Σ d²)/n; plus a per-element
    /// RMSE bound per type, which is the stricter and more telling check.
    func testRoundTripErrorOnSyntheticData() {
        let x = S.synthetic(32 * 128)
        let bounds: [GGMLType: Double] = [
            .f32: 0, .f16: 0.0005, .bf16: 0.005, .q8_0: 0.01, .q8_1: 0.01,
            .q5_0: 0.04, .q5_1: 0.04, .q4_0: 0.08, .q4_1: 0.08,
        ]
        for t in S.blockTypes {
            let y = S.dequantize(t, S.quantize(t, x), count: x.count)
            let e = S.rmse(x, y)
            XCTAssertLessThanOrEqual(e, bounds[t]!, "\(t.name) rmse \(e)")
            // ggml's own statistic (array_rmse in test-quantize-fns): sqrt(Σ (x-y)²) / n.
            let ggmlError = e * Double(x.count).squareRoot() / Double(x.count)
            XCTAssertLessThanOrEqual(ggmlError, 0.002, "\(t.name) ggml-style error \(ggmlError)")
            print("round-trip \(t.name): rmse \(e), ggml metric \(ggmlError)")
        }
    }

    /// Dequantize is the inverse on values already on the grid: quantize(dequantize(q)) == q.
    func testRequantizingDequantizedRowsIsStable() {
        for t in [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .f16, .bf16] {
            let x = S.synthetic(256, offset: 0.3)
            let q = S.quantize(t, x)
            let y = S.dequantize(t, q, count: 256)
            let q2 = S.quantize(t, y)
            let y2 = S.dequantize(t, q2, count: 256)
            XCTAssertLessThanOrEqual(S.rmse(y, y2), 1e-3, t.name)
        }
    }

    /// Q8_1's s is fp16(d · Σ qs), checked by hand on one block.
    func testQ8_1SumField() {
        let x: [Float] = (0..<32).map { Float($0) - 10 }  // amax 21 → d = 21/127
        let bytes = S.quantize(.q8_1, x)
        let d = halfToFloat(UInt16(bytes[0]) | UInt16(bytes[1]) << 8)
        let s = halfToFloat(UInt16(bytes[2]) | UInt16(bytes[3]) << 8)
        XCTAssertEqual(d, halfToFloat(floatToHalf(Float(21) / 127)))
        let qs = bytes[4..<36].map { Int(Int8(bitPattern: $0)) }
        XCTAssertEqual(qs[31], 127)
        XCTAssertEqual(qs[0], -60)  // -10 · 127/21 = -60.476 → -60
        let sum = qs.reduce(0, +)
        XCTAssertEqual(s, halfToFloat(floatToHalf(Float(sum) * (Float(21) / 127))))
    }

    /// test-quantize-fns' dot-product check: quantized weight · quantized activation
    /// against the float dot of the originals, within MAX_DOT_PRODUCT_ERROR = 0.02
    /// (ggml divides the absolute difference by the length).
    func testDotProductErrorBound() {
        let n = 32 * 128
        let w = S.synthetic(n), a = S.synthetic(n, offset: 1)
        var exact = 0.0
        for i in 0..<n { exact += Double(w[i]) * Double(a[i]) }
        for t in S.blockTypes where t != .q8_1 {
            let f = BlockFormats.format(for: t)!
            let wq = S.quantize(t, w), aq = S.quantize(f.activationType, a)
            let ref = wq.withUnsafeBytes { wp in aq.withUnsafeBytes { f.dotReference(wp.baseAddress!, $0.baseAddress!, count: n) } }
            let fast = wq.withUnsafeBytes { wp in aq.withUnsafeBytes { f.dot(wp.baseAddress!, $0.baseAddress!, count: n) } }
            let err = abs(Double(ref) - exact) / Double(n)
            XCTAssertLessThanOrEqual(err, 0.02, "\(t.name) dot error \(err)")
            if [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1].contains(t) {
                XCTAssertEqual(ref, fast, "\(t.name): integer path must be bit-identical")
            } else {
                XCTAssertEqual(Double(ref), Double(fast), accuracy: 1e-5 * max(1, abs(exact)), t.name)
            }
        }
    }

    /// Reference and SIMD dots agree exactly on random data for every integer format.
    func testFastDotEqualsReferenceOnRandomData() {
        var rng = SystemRandomNumberGenerator()
        for t in S.blockTypes {
            let f = BlockFormats.format(for: t)!
            for n in [32, 96, 576] {
                let w = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
                let a = (0..<n).map { _ in Float.random(in: -5...5, using: &rng) }
                let wq = S.quantize(t, w), aq = S.quantize(f.activationType, a)
                let ref = wq.withUnsafeBytes { wp in aq.withUnsafeBytes { f.dotReference(wp.baseAddress!, $0.baseAddress!, count: n) } }
                let fast = wq.withUnsafeBytes { wp in aq.withUnsafeBytes { f.dot(wp.baseAddress!, $0.baseAddress!, count: n) } }
                if t.blockSize == 32 {
                    XCTAssertEqual(ref.bitPattern, fast.bitPattern, "\(t.name) n=\(n)")
                } else {
                    XCTAssertEqual(ref, fast, accuracy: 1e-4 * Float(n), "\(t.name) n=\(n)")
                }
                // And both match the dequantized float dot closely.
                let wd = S.dequantize(t, wq, count: n), ad = S.dequantize(f.activationType, aq, count: n)
                var plain = 0.0
                for i in 0..<n { plain += Double(wd[i]) * Double(ad[i]) }
                XCTAssertEqual(Double(ref), plain, accuracy: 0.02 * Double(n / 32 + 1), "\(t.name) n=\(n)")
            }
        }
    }
}

final class QuantActivationTests: XCTestCase {
    /// llama.cpp's x86 activation quantizer rounds halves to even; the reference
    /// (weight) quantizer rounds them away from zero. With max 127, d = 1 and x·id = x.
    func testActivationQuantizerRoundsHalvesToEven() {
        var x = [Float](repeating: 0, count: 32)
        x[0] = 127; x[1] = 2.5; x[2] = -2.5; x[3] = 3.5; x[4] = 0.5; x[5] = 2.4
        for (type, offset) in [(GGMLType.q8_0, 2), (.q8_1, 4)] {
            let f = BlockFormats.format(for: type)!
            var weightStyle = [UInt8](repeating: 0, count: type.blockBytes)
            var activationStyle = weightStyle
            x.withUnsafeBufferPointer { src in
                weightStyle.withUnsafeMutableBytes { f.quantizeRow(src: src.baseAddress!, dst: $0.baseAddress!, count: 32) }
                activationStyle.withUnsafeMutableBytes { f.quantizeActivationRow(src: src.baseAddress!, dst: $0.baseAddress!, count: 32) }
            }
            let ref = weightStyle[offset..<offset + 6].map { Int8(bitPattern: $0) }
            let act = activationStyle[offset..<offset + 6].map { Int8(bitPattern: $0) }
            XCTAssertEqual(ref, [127, 3, -3, 4, 1, 2], type.name)
            XCTAssertEqual(act, [127, 2, -2, 4, 0, 2], type.name)
            XCTAssertEqual(Array(weightStyle[0..<2]), Array(activationStyle[0..<2]), "same d")
            if type == .q8_1 {
                // s = fp16(d · Σ qs) with d = 1: 127 + 2 - 2 + 4 + 0 + 2 = 133.
                XCTAssertEqual(halfToFloat(UInt16(activationStyle[2]) | UInt16(activationStyle[3]) << 8), 133)
            }
        }
    }

    /// The SIMD activation quantizer writes the plain loop's bytes: random rows of several
    /// magnitudes, a row of halves (x·id = k + 0.5 exactly), an all-zero block and
    /// one with a single non-zero value.
    func testActivationQuantizerFastEqualsReference() {
        var rng = SplitMix(5)
        var rows: [[Float]] = (0..<40).map { i in rng.floats(96, in: -Float(i + 1)...Float(i + 1)) }
        var halves = [Float](repeating: 0, count: 96)   // each block's max is 127, so id = 1
        for j in 0..<96 { halves[j] = j % 32 == 0 ? 127 : Float(j - 48) + 0.5 }
        rows.append(halves)
        var sparse = [Float](repeating: 0, count: 96)
        sparse[40] = -3e-5
        rows.append(sparse)
        for type in [GGMLType.q8_0, .q8_1] {
            let f = BlockFormats.format(for: type)!
            for (i, x) in rows.enumerated() {
                var fast = [UInt8](repeating: 0, count: type.rowBytes(96)!), plain = fast
                x.withUnsafeBufferPointer { src in
                    fast.withUnsafeMutableBytes { f.quantizeActivationRow(src: src.baseAddress!, dst: $0.baseAddress!, count: 96) }
                    plain.withUnsafeMutableBytes { f.quantizeActivationRowReference(src: src.baseAddress!, dst: $0.baseAddress!, count: 96) }
                }
                XCTAssertEqual(fast, plain, "\(type.name) row \(i)")
            }
        }
        // Q8_K (256-element blocks): random rows, ties (halves after scaling by 1), the max
        // at either sign and repeated with both signs, a zero block, an infinity and a NaN.
        var kRows: [[Float]] = (0..<24).map { i in rng.floats(512, in: -Float(i + 1)...Float(i + 1)) }
        var ties = [Float](repeating: 0, count: 512)
        for j in 0..<512 { ties[j] = j % 256 == 7 ? -127 : Float(j % 250) - 125 + 0.5 }
        kRows.append(ties)
        var bothSigns = rng.floats(512, in: -1...1)
        bothSigns[3] = 2; bothSigns[200] = -2; bothSigns[300] = -2; bothSigns[400] = 2
        kRows.append(bothSigns)
        var special = rng.floats(512, in: -1...1)
        for j in 0..<256 { special[j] = 0 }
        special[260] = .infinity
        kRows.append(special)
        var nan = rng.floats(512, in: -1...1)
        nan[5] = .nan
        kRows.append(nan)
        for (i, x) in kRows.enumerated() {
            var fast = [UInt8](repeating: 0, count: GGMLType.q8_K.rowBytes(512)!), plain = fast
            x.withUnsafeBufferPointer { src in
                fast.withUnsafeMutableBytes { Q8_KFormat.quantizeActivationRow(src: src.baseAddress!, dst: $0.baseAddress!, count: 512) }
                plain.withUnsafeMutableBytes { Q8_KFormat.quantizeActivationRowReference(src: src.baseAddress!, dst: $0.baseAddress!, count: 512) }
            }
            XCTAssertEqual(fast, plain, "Q8_K row \(i)")
        }
    }
}
