import _Builtin_intrinsics.intel
/// Q4_0: blocks of 32 weights, 18 bytes each.
///
///     offset 0   d       fp16    scale
///     offset 2   qs[16]  uint8   two 4-bit codes per byte
///
/// Byte j holds weight j in its low nibble and weight j+16 in its high nibble;
/// weight = (code - 8) · d. Dotted against Q8_0 activations.
public enum Q4_0Format: BlockFormat {
    public static var type: GGMLType { .q4_0 }
    public static var activationType: GGMLType { .q8_0 }
    // The layout above as constants (computed: a static let costs a lazy-init check per use).
    @inline(__always) static var blockBytes: Int { 18 }
    @inline(__always) static var scaleOffset: Int { 0 }
    @inline(__always) static var codesOffset: Int { 2 }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 32 {
            let block = src + b * blockBytes
            let d = block.loadHalf(scaleOffset)
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: codesOffset + j, as: UInt8.self)
                dst[b * 32 + j] = Float(Int(byte & 0x0F) - 8) * d
                dst[b * 32 + j + 16] = Float(Int(byte >> 4) - 8) * d
            }
        }
    }

    /// ggml's `quantize_row_q4_0_ref`: d = (the value of largest magnitude, with its
    /// sign) / -8, so that value maps to code 0 exactly; code = min(15, trunc(x/d + 8.5)).
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let x = src + b * 32
            let block = dst + b * blockBytes
            var amax: Float = 0, maxValue: Float = 0
            for j in 0..<32 where amax < abs(x[j]) { amax = abs(x[j]); maxValue = x[j] }
            let d = maxValue / -8
            let id: Float = d != 0 ? 1 / d : 0
            block.storeHalf(d, scaleOffset)
            for j in 0..<16 {
                let q0 = min(15, Int(Int8(truncatingIfNeeded: truncatingInt(x[j] * id + 8.5))))
                let q1 = min(15, Int(Int8(truncatingIfNeeded: truncatingInt(x[j + 16] * id + 8.5))))
                block.storeBytes(of: UInt8(truncatingIfNeeded: q0) | UInt8(truncatingIfNeeded: q1) << 4, toByteOffset: codesOffset + j, as: UInt8.self)
            }
        }
    }

    /// llama.cpp's order (`blockDotReference`, QuantDot.swift) over (code − 8)·a products; a: Q8_0 row.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        blockDotReference(Self.self, w, a, count: count)
    }

    /// The SIMD version of `dotReference` (QuantDot.swift), bit-identical to it.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        dotRowLanes(w, a, count: count)
    }
}

extension Q4_0Format: IntBlockDot {
    static var minimumOffset: Int? { nil }

    /// llama.cpp's x86 build repacks Q4_0 into interleaved groups of 8 rows (q4_0_8x8)
    /// when the matrix has a multiple of 8 rows, and sums those in its own order.
    static func repacked(weightRows: Int) -> Bool { weightRows % 8 == 0 }

    /// code − 8, code = element j's nibble.
    @inline(__always) static func integer(_ block: UnsafeRawPointer, element j: Int) -> Int32 {
        let byte = block.load(fromByteOffset: codesOffset + j % 16, as: UInt8.self)
        return Int32(j < 16 ? byte & 0x0F : byte >> 4) - 8
    }

    @inline(__always) static var codeOffset: Int32? { 8 }
    @inline(__always) static func unsignedCodeBytes(_ x: UnsafeRawPointer) -> __m256i { nibbleBytes(x + codesOffset) }

    /// code − 8 for each element, as signed bytes.
    @inline(__always) static func codeBytes(_ x: UnsafeRawPointer) -> __m256i {
        _mm256_sub_epi8(nibbleBytes(x + codesOffset), _mm256_set1_epi8(8))
    }
}
