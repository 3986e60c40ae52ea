/// F16: IEEE half floats, 2 bytes each, little-endian (block size 1).
///
/// As in ggml, an F16 weight row is dotted against activations rounded to f16;
/// each product is formed and summed in f32.
public enum F16Format: BlockFormat {
    public static var type: GGMLType { .f16 }
    public static var activationType: GGMLType { .f16 }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = src.loadHalf(2 * i) }
    }

    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for i in 0..<count { dst.storeHalf(src[i], 2 * i) }
    }

    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sum: Float = 0
        for i in 0..<count { sum += w.loadHalf(2 * i) * a.loadHalf(2 * i) }
        return sum
    }

    /// 16 lanes of partial sums, so the order of additions differs from the plain loop.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        // 16 halves = 32 bytes read as 8 UInt32 lanes: the low 16 bits hold the even
        // elements, the high 16 bits the odd ones. Weights and activations are split
        // the same way, so even pairs with even and odd with odd.
        while i + 16 <= count {
            let wv = w.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Int32>.self)
            let av = a.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Int32>.self)
            acc0 = acc0.addingProduct(halfBitsToFloat(wv & 0xFFFF), halfBitsToFloat(av & 0xFFFF))
            acc1 = acc1.addingProduct(halfBitsToFloat((wv &>> 16) & 0xFFFF), halfBitsToFloat((av &>> 16) & 0xFFFF))
            i += 16
        }
        var sum = (acc0 + acc1).sum()
        while i < count { sum += w.loadHalf(2 * i) * a.loadHalf(2 * i); i += 1 }
        return sum
    }
}
