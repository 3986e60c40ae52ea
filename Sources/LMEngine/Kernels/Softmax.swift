import Foundation

/// In place: x[i] = exp(x[i] - max) / Σ exp(x[j] - max).   x: [count].
/// Subtracting the max keeps exp from overflowing; the sum is kept in double as ggml does.
public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, mode: KernelMode = .fast) {
    if mode == .reference { softmaxReference(x, count: count); return }
    guard count > 0 else { return }
    let raw = UnsafeMutableRawPointer(x)
    // A plain loop for the max: `pointwiseMax` on SIMD16<Float> compiles to a slower
    // lane-by-lane loop through memory here (see LaneMasks.swift).
    var maxValue = -Float.infinity
    for j in 0..<count where x[j] > maxValue { maxValue = x[j] }
    var i = 0
    var sum = 0.0
    for j in 0..<count {
        let e = expf(x[j] - maxValue)   // the cost is here; Swift has no vector exp
        x[j] = e
        sum += Double(e)
    }
    let inverse = Float(1 / sum)
    i = 0
    while i + 16 <= count {
        raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * inverse, toByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    while i < count { x[i] *= inverse; i += 1 }
}

/// The plain loop.
public func softmaxReference(_ x: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    var maxValue = -Float.infinity
    for i in 0..<count { maxValue = max(maxValue, x[i]) }
    var sum = 0.0
    for i in 0..<count {
        x[i] = expf(x[i] - maxValue)
        sum += Double(x[i])
    }
    let inverse = Float(1 / sum)
    for i in 0..<count { x[i] *= inverse }
}
