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
    @inline(__always) static var blockBytes: Int { 20 }  // computed: a static let costs a lazy-init check per use

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 32 {
            let block = src + b * blockBytes
            let d = block.loadHalf(0), m = block.loadHalf(2)
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
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
            block.storeHalf(d, 0)
            block.storeHalf(lo, 2)
            for j in 0..<16 {
                let q0 = min(15, Int(Int8(truncatingIfNeeded: truncatingInt((x[j] - lo) * id + 0.5))))
                let q1 = min(15, Int(Int8(truncatingIfNeeded: truncatingInt((x[j + 16] - lo) * id + 0.5))))
                block.storeBytes(of: UInt8(truncatingIfNeeded: q0) | UInt8(truncatingIfNeeded: q1) << 4, toByteOffset: 4 + j, as: UInt8.self)
            }
        }
    }

    /// llama.cpp's order (QuantDot.swift) over code·a products, plus Σ m·s; a: Q8_1 row.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        ggmlBlockDotReference(blocks: count / 32, product: { b, j in
            let byte = w.load(fromByteOffset: b * blockBytes + 4 + j % 16, as: UInt8.self)
            let code = j < 16 ? byte & 0x0F : byte >> 4
            return Int32(code) * Int32(a.load(fromByteOffset: b * Q8_1Format.blockBytes + 4 + j, as: Int8.self))
        }, scale: { b in (w + b * blockBytes).loadHalf(0) * (a + b * Q8_1Format.blockBytes).loadHalf(0) },
           minimum: { b in ((w + b * blockBytes).loadHalf(2), (a + b * Q8_1Format.blockBytes).loadHalf(2)) })
    }

    /// The SIMD version of `dotReference` (QuantDot.swift), bit-identical to it.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        dotRowLanes(w, a, count: count)
    }
}
