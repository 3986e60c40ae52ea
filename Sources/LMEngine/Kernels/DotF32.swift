/// Σ a[i]·b[i] over `count` floats: the plain loop.
public func dotF32Reference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var sum: Float = 0
    for i in 0..<count { sum += a[i] * b[i] }
    return sum
}

/// Σ a[i]·b[i] with two 16-lane accumulators (a different summation order, so it
/// agrees with the reference to rounding, not bit for bit).
@inline(__always)
public func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var i = 0
    while i + 32 <= count {
        acc0 += ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        acc1 += ra.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self)
        i += 32
    }
    while i + 16 <= count {
        acc0 += ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < count { sum += a[i] * b[i]; i += 1 }
    return sum
}

/// y[i] += alpha · x[i]: the accumulate step of attention's weighted sum of values.
@inline(__always)
func axpyF32(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
    var i = 0
    while i + 16 <= count {
        let v = ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) + alpha * rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        ry.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    while i < count { y[i] += alpha * x[i]; i += 1 }
}
