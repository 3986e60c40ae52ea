/// out[i] = x[i] / sqrt(mean(x²) + eps) · weight[i].   x, weight, out: [count]; out may be x.
///
/// Mirrors ggml: the float squares are accumulated in double, one after the other in
/// index order (as ggml's loop; lanes of partial sums would round differently), the
/// scale is computed in float as 1/sqrtf(mean + eps), then x·scale is multiplied by
/// the weight. The fast version only vectorizes the squaring and the scaling.
public func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int, eps: Float,
                    mode: KernelMode = .fast) {
    if mode == .reference {
        rmsNormReference(x, weight: weight, out: out, count: count, eps: eps)
        return
    }
    let rx = UnsafeRawPointer(x)
    var sum = 0.0
    var i = 0
    while i + 8 <= count {
        let v = rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        let squares = SIMD8<Double>(v * v)
        for l in 0..<8 { sum += squares[l] }
        i += 8
    }
    while i < count { sum += Double(x[i] * x[i]); i += 1 }
    let scale = 1 / (Float(sum / Double(count)) + eps).squareRoot()
    let rw = UnsafeRawPointer(weight), ro = UnsafeMutableRawPointer(out)
    i = 0
    while i + 16 <= count {
        let v = rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * scale
        ro.storeBytes(of: v * rw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self), toByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    while i < count { out[i] = (x[i] * scale) * weight[i]; i += 1 }
}

/// The plain loop (ggml's squares are float products summed in double).
public func rmsNormReference(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int, eps: Float) {
    var sum = 0.0
    for i in 0..<count { sum += Double(x[i] * x[i]) }
    let mean = Float(sum / Double(count))
    let scale = 1 / (mean + eps).squareRoot()
    for i in 0..<count { out[i] = (x[i] * scale) * weight[i] }
}
