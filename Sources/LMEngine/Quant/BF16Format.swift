/// BF16: bfloat16, the top 16 bits of an fp32, 2 bytes each (block size 1).
/// Dotted against activations rounded to bf16, products summed in f32.
public enum BF16Format: BlockFormat {
    public static var type: GGMLType { .bf16 }
    public static var activationType: GGMLType { .bf16 }

    @inline(__always)
    static func load(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        bf16ToFloat(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }

    @inline(__always)
    static func load8(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        let bits = SIMD8<UInt32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self))
        return unsafeBitCast(bits &<< 16, to: SIMD8<Float>.self)
    }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = load(src, i) }
    }

    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for i in 0..<count { dst.storeBytes(of: floatToBF16(src[i]), toByteOffset: 2 * i, as: UInt16.self) }
    }

    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sum: Float = 0
        for i in 0..<count { sum += load(w, i) * load(a, i) }
        return sum
    }

    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            acc0 += load8(w, i) * load8(a, i)
            acc1 += load8(w, i + 8) * load8(a, i + 8)
            i += 16
        }
        var sum = (acc0 + acc1).sum()
        while i < count { sum += load(w, i) * load(a, i); i += 1 }
        return sum
    }
}
