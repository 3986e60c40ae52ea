import _Builtin_intrinsics.intel
/// Q4_1: blocks of 32 weights, 20 bytes each.
///
///     offset 0   d       fp16    scale
///     offset 2   m       fp16    minimum (offset)
///     offset 4   qs[16]  uint8   byte j: weight j low nibble, weight j+16 high nibble
///
/// weight = code · d + m. Dotted against Q8_1 activations, whose `s` carries Σ a.
public enum Q4_1Format: BlockFormat {
    public static var type: GGMLType { .q4_1 }
    public static var activationType: GGMLType { .q8_1 }
    // The layout above as constants (computed: a static let costs a lazy-init check per use).
    @inline(__always) static var blockBytes: Int { 20 }
    @inline(__always) static var scaleOffset: Int { 0 }
    @inline(__always) static var minOffset: Int { 2 }
    @inline(__always) static var codesOffset: Int { 4 }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 32 {
            let block = src + b * blockBytes
            let d = block.loadHalf(scaleOffset), m = block.loadHalf(minOffset)
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: codesOffset + j, as: UInt8.self)
                dst[b * 32 + j] = Float(byte & 0x0F) * d + m
                dst[b * 32 + j + 16] = Float(byte >> 4) * d + m
            }
        }
    }

    /// ggml's `quantize_row_q4_1_ref`: d = (max - min) / 15, m = min,
    /// code = min(15, trunc((x - min)/d + 0.5)).
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let x = src + b * 32
            let block = dst + b * blockBytes
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                if x[j] < lo { lo = x[j] }
                if x[j] > hi { hi = x[j] }
            }
            let d = (hi - lo) / 15
            let id: Float = d != 0 ? 1 / d : 0
            block.storeHalf(d, scaleOffset)
            block.storeHalf(lo, minOffset)
            for j in 0..<16 {
                let q0 = min(15, Int(Int8(truncatingIfNeeded: truncatingInt((x[j] - lo) * id + 0.5))))
                let q1 = min(15, Int(Int8(truncatingIfNeeded: truncatingInt((x[j + 16] - lo) * id + 0.5))))
                block.storeBytes(of: UInt8(truncatingIfNeeded: q0) | UInt8(truncatingIfNeeded: q1) << 4, toByteOffset: codesOffset + j, as: UInt8.self)
            }
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

extension Q4_1Format: IntBlockDot {
    static var minimumOffset: Int? { minOffset }

    /// The nibble of element j.
    @inline(__always) static func integer(_ block: UnsafeRawPointer, element j: Int) -> Int32 {
        let byte = block.load(fromByteOffset: codesOffset + j % 16, as: UInt8.self)
        return Int32(j < 16 ? byte & 0x0F : byte >> 4)
    }

    @inline(__always) static var unsignedCodes: Bool { true }
    @inline(__always) static func codeBytes(_ x: UnsafeRawPointer) -> __m256i { nibbleBytes(x + codesOffset) }
}
