/// F32: plain little-endian floats, 4 bytes each (block size 1). Activations stay f32.
public enum F32Format: BlockFormat {
    public static var type: GGMLType { .f32 }
    public static var activationType: GGMLType { .f32 }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = src.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
    }

    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for i in 0..<count { dst.storeBytes(of: src[i], toByteOffset: 4 * i, as: Float.self) }
    }

    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sum: Float = 0
        for i in 0..<count {
            sum += w.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) * a.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
        }
        return sum
    }

    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            acc += w.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                * a.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        var sum = acc.sum()
        while i < count {
            sum += w.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) * a.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
            i += 1
        }
        return sum
    }
}
