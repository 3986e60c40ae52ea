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

    /// Two 8-lane accumulators, so the order of additions differs from the plain
    /// loop. The halves are widened by the CPU's F16C instruction (`vcvtph2ps`,
    /// eight at a time, straight from memory): the lane-by-lane `Float(Float16)`
    /// below compiles to exactly that, where decoding the bits by hand costs a
    /// dozen integer operations per element and made F16 slower than F32.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            acc0 = acc0.addingProduct(widen(w, 2 * i), widen(a, 2 * i))
            acc1 = acc1.addingProduct(widen(w, 2 * i + 16), widen(a, 2 * i + 16))
            i += 16
        }
        var sum = (acc0 + acc1).sum()
        while i < count { sum += w.loadHalf(2 * i) * a.loadHalf(2 * i); i += 1 }
        return sum
    }

    /// Eight halves at `offset` as floats (exact: every half is a float).
    @inline(__always)
    static func widen(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<Float> {
        let h = p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float16>.self)
        return SIMD8<Float>(Float(h[0]), Float(h[1]), Float(h[2]), Float(h[3]), Float(h[4]), Float(h[5]), Float(h[6]), Float(h[7]))
    }
}
