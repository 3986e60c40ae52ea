import _Builtin_intrinsics.intel
/// Q5_1: blocks of 32 weights, 24 bytes each.
///
///     offset 0   d       fp16    scale
///     offset 2   m       fp16    minimum (offset)
///     offset 4   qh      uint32  (little-endian) bit j = 5th bit of weight j's code
///     offset 8   qs[16]  uint8   byte j: low 4 bits of weight j (low nibble) and j+16 (high)
///
/// weight = code · d + m with code in 0…31. Dotted against Q8_1 activations.
public enum Q5_1Format: BlockFormat {
    public static var type: GGMLType { .q5_1 }
    public static var activationType: GGMLType { .q8_1 }
    // The layout above as constants (computed: a static let costs a lazy-init check per use).
    @inline(__always) static var blockBytes: Int { 24 }
    @inline(__always) static var scaleOffset: Int { 0 }
    @inline(__always) static var minOffset: Int { 2 }
    @inline(__always) static var highBitsOffset: Int { 4 }
    @inline(__always) static var codesOffset: Int { 8 }

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
            let d = block.loadHalf(scaleOffset), m = block.loadHalf(minOffset)
            let qh = block.loadUnaligned(fromByteOffset: highBitsOffset, as: UInt32.self)
            for j in 0..<16 {
                let (c0, c1) = codes(block, qh, j)
                dst[b * 32 + j] = Float(c0) * d + m
                dst[b * 32 + j + 16] = Float(c1) * d + m
            }
        }
    }

    /// ggml's `quantize_row_q5_1_ref`: d = (max - min) / 31, m = min,
    /// code = uint8(trunc((x - min)/d + 0.5)) (no clamp in ggml; in range by construction).
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let x = src + b * 32
            let block = dst + b * blockBytes
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                if x[j] < lo { lo = x[j] }
                if x[j] > hi { hi = x[j] }
            }
            let d = (hi - lo) / 31
            let id: Float = d != 0 ? 1 / d : 0
            block.storeHalf(d, scaleOffset)
            block.storeHalf(lo, minOffset)
            var qh: UInt32 = 0
            for j in 0..<16 {
                let q0 = UInt8(truncatingIfNeeded: truncatingInt((x[j] - lo) * id + 0.5))
                let q1 = UInt8(truncatingIfNeeded: truncatingInt((x[j + 16] - lo) * id + 0.5))
                block.storeBytes(of: (q0 & 0x0F) | (q1 & 0x0F) << 4, toByteOffset: codesOffset + j, as: UInt8.self)
                qh |= UInt32(q0 >> 4 & 1) << UInt32(j)
                qh |= UInt32(q1 >> 4 & 1) << UInt32(j + 16)
            }
            block.storeBytes(of: qh, toByteOffset: highBitsOffset, as: UInt32.self)
        }
    }

    /// llama.cpp's order (`blockDotReference`, QuantDot.swift) over code·a products,
    /// plus Σ m·s; a: Q8_1 row.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        blockDotReference(Self.self, w, a, count: count)
    }

    /// The SIMD version of `dotReference` (QuantDot.swift), bit-identical to it.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        dotRowLanes(w, a, count: count)
    }
}

extension Q5_1Format: IntBlockDot {
    static var minimumOffset: Int? { minOffset }

    /// The code of element j: its nibble plus its fifth bit from qh.
    @inline(__always) static func integer(_ block: UnsafeRawPointer, element j: Int) -> Int32 {
        let (low, high) = codes(block, block.loadUnaligned(fromByteOffset: highBitsOffset, as: UInt32.self), j % 16)
        return j < 16 ? low : high
    }

    @inline(__always) static var unsignedCodes: Bool { true }
    @inline(__always) static func codeBytes(_ x: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbleBytes(x + codesOffset), fifthBitBytes(x.loadUnaligned(fromByteOffset: highBitsOffset, as: UInt32.self)))
    }
}
