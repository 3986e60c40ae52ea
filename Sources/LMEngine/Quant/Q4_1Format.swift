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

    /// ggml_vec_dot_q4_1_q8_1 (generic): Σ_blocks d_w·d_a·Σ q·qa + m·s.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 32 {
            let x = w + b * blockBytes, y = a + b * Q8_1Format.blockBytes
            var sumi0: Int32 = 0, sumi1: Int32 = 0
            for j in 0..<16 {
                let byte = x.load(fromByteOffset: 4 + j, as: UInt8.self)
                sumi0 += Int32(byte & 0x0F) * Int32(y.load(fromByteOffset: 4 + j, as: Int8.self))
                sumi1 += Int32(byte >> 4) * Int32(y.load(fromByteOffset: 4 + j + 16, as: Int8.self))
            }
            sumf += (x.loadHalf(0) * y.loadHalf(0)) * Float(sumi0 + sumi1) + x.loadHalf(2) * y.loadHalf(2)
        }
        return sumf
    }

    /// Nibbles and activations widened to Int16 lanes, exact integer sum per block
    /// (QuantDot.swift), then the reference's float step.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        dotRow(w, a, count: count) { sumi, x, y in
            let h = halves4(x, y, 0, 0, 2, 2)
            return (h[0] * h[1]) * Float(sumi) + h[2] * h[3]
        }
    }
}
