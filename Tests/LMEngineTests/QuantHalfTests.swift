import XCTest
import LMEngine

final class QuantHalfTests: XCTestCase {
    /// Every fp16 pattern decodes and encodes back to itself (NaNs: stay NaN, quiet).
    func testAllHalfPatternsRoundTrip() {
        for bits in 0...0xFFFF {
            let h = UInt16(bits)
            let f = halfToFloat(h)
            let back = floatToHalf(f)
            if h & 0x7C00 == 0x7C00 && h & 0x03FF != 0 {
                XCTAssertTrue(f.isNaN, "pattern \(h)")
                XCTAssertEqual(back & 0x7E00, 0x7E00, "NaN stays a quiet NaN")
                XCTAssertEqual(back & 0x8000, h & 0x8000)
            } else if back != h {
                XCTFail("fp16 \(String(h, radix: 16)) → \(f) → \(String(back, radix: 16))")
                return
            }
        }
    }

    func testKnownHalfValues() {
        XCTAssertEqual(halfToFloat(0x3C00), 1)
        XCTAssertEqual(halfToFloat(0xC000), -2)
        XCTAssertEqual(halfToFloat(0x7BFF), 65504)
        XCTAssertEqual(halfToFloat(0x0001), 0x1p-24)          // smallest subnormal
        XCTAssertEqual(halfToFloat(0x03FF), 1023 * 0x1p-24)   // largest subnormal
        XCTAssertEqual(halfToFloat(0x0400), 0x1p-14)          // smallest normal
        XCTAssertEqual(halfToFloat(0x7C00), .infinity)
        XCTAssertEqual(halfToFloat(0xFC00), -.infinity)
        XCTAssertEqual(halfToFloat(0x8000).sign, .minus)
        XCTAssertEqual(halfToFloat(0x3555), 0.333251953125)
    }

    func testHalfRoundingTiesToEven() {
        XCTAssertEqual(floatToHalf(1 + 0x1p-11), 0x3C00)          // tie, even below
        XCTAssertEqual(floatToHalf(1 + 3 * 0x1p-11), 0x3C02)      // tie, even above
        XCTAssertEqual(floatToHalf(1 + 0x1p-11 + 0x1p-20), 0x3C01) // just above the tie
        XCTAssertEqual(floatToHalf(65519), 0x7BFF)
        XCTAssertEqual(floatToHalf(65520), 0x7C00)                // rounds up to inf
        XCTAssertEqual(floatToHalf(1e10), 0x7C00)
        XCTAssertEqual(floatToHalf(-1e10), 0xFC00)
        XCTAssertEqual(floatToHalf(0x1p-25), 0x0000)              // tie between 0 and 2^-24 → 0
        XCTAssertEqual(floatToHalf(0x1p-25 * 1.0001), 0x0001)
        XCTAssertEqual(floatToHalf(3 * 0x1p-25), 0x0002)          // tie between 1 and 2 ulps → 2
        XCTAssertEqual(floatToHalf(0x1p-30), 0x0000)
        XCTAssertEqual(floatToHalf(-0x1p-30), 0x8000)
        XCTAssertEqual(floatToHalf(2047 * 0x1p-25), 0x0400)       // subnormal rounding carries into normal
        XCTAssertEqual(floatToHalf(.infinity), 0x7C00)
        XCTAssertEqual(floatToHalf(.nan) & 0x7E00, 0x7E00)
    }

    /// Random floats against a slow oracle: the nearest fp16 found by search, ties to even.
    func testHalfRoundingAgainstNearestSearch() {
        let positives: [Float] = (0..<0x7C00).map { halfToFloat(UInt16($0)) }  // sorted ascending
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            let e = Float(Int.random(in: -28...17, using: &rng))
            let x = Float.random(in: 1..<2, using: &rng) * Float(pow(2.0, Double(e)))
            var lo = 0, hi = positives.count - 1
            while hi - lo > 1 { let mid = (lo + hi) / 2; if positives[mid] <= x { lo = mid } else { hi = mid } }
            let expected: UInt16
            if x >= 65520 { expected = 0x7C00 }
            else if x >= positives.last! { expected = 0x7BFF }
            else {
                let dl = Double(x) - Double(positives[lo]), dh = Double(positives[hi]) - Double(x)
                expected = UInt16(dl < dh ? lo : dh < dl ? hi : (lo % 2 == 0 ? lo : hi))
            }
            XCTAssertEqual(floatToHalf(x), expected, "x = \(x)")
            XCTAssertEqual(floatToHalf(-x), expected | 0x8000)
        }
    }

    func testSIMDHalfDecodeMatchesScalar() {
        for base in stride(from: 0, to: 0x10000, by: 8) {
            var h = SIMD8<UInt16>()
            for k in 0..<8 { h[k] = UInt16(base + k) }
            let v = halfToFloat(h)
            for k in 0..<8 {
                let s = halfToFloat(h[k])
                XCTAssertTrue(v[k].bitPattern == s.bitPattern || (v[k].isNaN && s.isNaN), "pattern \(base + k)")
            }
        }
    }

    func testBF16() {
        XCTAssertEqual(bf16ToFloat(0x3F80), 1)
        XCTAssertEqual(bf16ToFloat(0xC040), -3)
        XCTAssertEqual(floatToBF16(1), 0x3F80)
        XCTAssertEqual(floatToBF16(Float(bitPattern: 0x3F80_8000)), 0x3F80)   // tie → even (down)
        XCTAssertEqual(floatToBF16(Float(bitPattern: 0x3F81_8000)), 0x3F82)   // tie → even (up)
        XCTAssertEqual(floatToBF16(Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertEqual(floatToBF16(.greatestFiniteMagnitude), 0x7F80)         // rounds to inf
        XCTAssertEqual(floatToBF16(Float(bitPattern: 0x7F80_0001)), 0x7FC0)   // signalling NaN made quiet
        for bits in 0...0xFFFF where !(bits & 0x7F80 == 0x7F80 && bits & 0x7F != 0) {
            XCTAssertEqual(floatToBF16(bf16ToFloat(UInt16(bits))), UInt16(bits))
        }
    }

    /// The hardware conversion against the plain loop: every 97th bit pattern (NaNs,
    /// infinities, subnormals and ties among them) and the exact ties around each
    /// exponent.
    func testHardwareFloatToHalfEqualsReference() {
        var mismatches = 0
        var bits: UInt32 = 0
        while true {
            let f = Float(bitPattern: bits)
            if floatToHalf(f) != floatToHalfReference(f) { mismatches += 1 }
            let (next, overflow) = bits.addingReportingOverflow(97)
            if overflow { break }
            bits = next
        }
        for e in -30...17 {
            for m in 0..<8 {
                let f = Float(sign: .plus, exponent: e, significand: 1 + Float(m) / 1024 + 1.0 / 2048)   // a tie at normal precision
                XCTAssertEqual(floatToHalf(f), floatToHalfReference(f), "\(f)")
                XCTAssertEqual(floatToHalf(-f), floatToHalfReference(-f), "\(-f)")
            }
        }
        XCTAssertEqual(mismatches, 0)
    }
}
