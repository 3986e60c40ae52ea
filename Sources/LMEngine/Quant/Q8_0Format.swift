/// Q8_0: blocks of 32 weights, 34 bytes each.
///
///     offset 0   d       fp16   scale
///     offset 2   qs[32]  int8   weight j = qs[j] · d
///
/// Also the activation format for Q4_0, Q5_0 and Q8_0 weights.
public enum Q8_0Format: BlockFormat {
    public static var type: GGMLType { .q8_0 }
    public static var activationType: GGMLType { .q8_0 }
    static let blockBytes = 34

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 32 {
            let block = src + b * blockBytes
            let d = block.loadHalf(0)
            for j in 0..<32 {
                dst[b * 32 + j] = Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) * d
            }
        }
    }

    /// ggml's `quantize_row_q8_0_ref`: d = max|x| / 127, q = roundf(x · (1/d)).
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let x = src + b * 32
            let block = dst + b * blockBytes
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(x[j])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            block.storeHalf(d, 0)
            for j in 0..<32 {
                block.storeBytes(of: roundAwayToInt8(x[j] * id), toByteOffset: 2 + j, as: Int8.self)
            }
        }
    }

    /// ggml_vec_dot_q8_0_q8_0 (generic): exact integer sum per block, then scaled.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 32 {
            let x = w + b * blockBytes, y = a + b * blockBytes
            var sumi: Int32 = 0
            for j in 0..<32 {
                sumi += Int32(x.load(fromByteOffset: 2 + j, as: Int8.self)) * Int32(y.load(fromByteOffset: 2 + j, as: Int8.self))
            }
            sumf += Float(sumi) * (x.loadHalf(0) * y.loadHalf(0))
        }
        return sumf
    }

    /// The 32 products of a block in two 16-lane halves, widened before adding
    /// because (-128)·(-128) twice would overflow Int16.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 32 {
            let x = w + b * blockBytes, y = a + b * blockBytes
            let xq = x.loadUnaligned(fromByteOffset: 2, as: SIMD32<Int8>.self)
            let yq = y.loadUnaligned(fromByteOffset: 2, as: SIMD32<Int8>.self)
            let p = SIMD32<Int16>(truncatingIfNeeded: xq) &* SIMD32<Int16>(truncatingIfNeeded: yq)
            let sumi = (SIMD16<Int32>(truncatingIfNeeded: p.lowHalf) &+ SIMD16<Int32>(truncatingIfNeeded: p.highHalf)).wrappedSum()
            sumf += Float(sumi) * (x.loadHalf(0) * y.loadHalf(0))
        }
        return sumf
    }
}
