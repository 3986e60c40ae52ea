import _Builtin_intrinsics.intel
/// Q5_0: blocks of 32 weights, 22 bytes each.
///
///     offset 0   d       fp16    scale
///     offset 2   qh      uint32  (little-endian) bit j = 5th bit of weight j's code
///     offset 6   qs[16]  uint8   byte j: low 4 bits of weight j (low nibble) and j+16 (high)
///
/// weight = (code - 16) · d with code in 0…31. Dotted against Q8_0 activations.
public enum Q5_0Format: BlockFormat {
    public static var type: GGMLType { .q5_0 }
    public static var activationType: GGMLType { .q8_0 }
    // The layout above as constants (computed: a static let costs a lazy-init check per use).
    @inline(__always) static var blockBytes: Int { 22 }
    @inline(__always) static var scaleOffset: Int { 0 }
    @inline(__always) static var highBitsOffset: Int { 2 }
    @inline(__always) static var codesOffset: Int { 6 }

    /// The two 5-bit codes stored at byte j of a block.
    @inline(__always)
    static func codes(_ block: UnsafeRawPointer, _ qh: UInt32, _ j: Int) -> (Int32, Int32) {
        let byte = block.load(fromByteOffset: codesOffset + j, as: UInt8.self)
        let high0 = Int32((qh >> UInt32(j)) & 1) << 4
        let high1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
        return (Int32(byte & 0x0F) | high0, Int32(byte >> 4) | high1)
    }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 32 {
            let block = src + b * blockBytes
            let d = block.loadHalf(scaleOffset)
            let qh = block.loadUnaligned(fromByteOffset: highBitsOffset, as: UInt32.self)
            for j in 0..<16 {
                let (c0, c1) = codes(block, qh, j)
                dst[b * 32 + j] = Float(c0 - 16) * d
                dst[b * 32 + j + 16] = Float(c1 - 16) * d
            }
        }
    }

    /// ggml's `quantize_row_q5_0_ref`: d = (signed value of largest magnitude) / -16,
    /// code = min(31, trunc(x/d + 16.5)).
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let x = src + b * 32
            let block = dst + b * blockBytes
            var amax: Float = 0, maxValue: Float = 0
            for j in 0..<32 where amax < abs(x[j]) { amax = abs(x[j]); maxValue = x[j] }
            let d = maxValue / -16
            let id: Float = d != 0 ? 1 / d : 0
            block.storeHalf(d, scaleOffset)
            var qh: UInt32 = 0
            for j in 0..<16 {
                let q0 = UInt8(truncatingIfNeeded: min(31, Int(Int8(truncatingIfNeeded: truncatingInt(x[j] * id + 16.5)))))
                let q1 = UInt8(truncatingIfNeeded: min(31, Int(Int8(truncatingIfNeeded: truncatingInt(x[j + 16] * id + 16.5)))))
                block.storeBytes(of: (q0 & 0x0F) | (q1 & 0x0F) << 4, toByteOffset: codesOffset + j, as: UInt8.self)
                qh |= UInt32(q0 >> 4 & 1) << UInt32(j)
                qh |= UInt32(q1 >> 4 & 1) << UInt32(j + 16)
            }
            block.storeBytes(of: qh, toByteOffset: highBitsOffset, as: UInt32.self)
        }
    }

    /// llama.cpp's order (`blockDotReference`, QuantDot.swift) over (code − 16)·a products; a: Q8_0 row.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        blockDotReference(Self.self, w, a, count: count)
    }

    /// The SIMD version of `dotReference` (QuantDot.swift), bit-identical to it.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        dotRowLanes(w, a, count: count)
    }
}

extension Q5_0Format: IntBlockDot {
    static var minimumOffset: Int? { nil }

    /// code − 16, code = element j's nibble plus its fifth bit from qh.
    @inline(__always) static func integer(_ block: UnsafeRawPointer, element j: Int) -> Int32 {
        let (low, high) = codes(block, block.loadUnaligned(fromByteOffset: highBitsOffset, as: UInt32.self), j % 16)
        return (j < 16 ? low : high) - 16
    }

    /// code − 16 for each element, as signed bytes.
    @inline(__always) static func codeBytes(_ x: UnsafeRawPointer) -> __m256i {
        let fifth = fifthBitBytes(x.loadUnaligned(fromByteOffset: highBitsOffset, as: UInt32.self))
        return _mm256_sub_epi8(_mm256_or_si256(nibbleBytes(x + codesOffset), fifth), _mm256_set1_epi8(16))
    }
}
