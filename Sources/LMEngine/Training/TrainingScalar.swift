import Foundation

/// The number type the trainer computes in: Float for training, Double for the
/// gradient checks (finite differences need the extra digits).
///
/// The ops are written once, generically, as plain loops; the two vector
/// primitives every matmul is made of (a dot product and y += a·x) are the only
/// per-type code, so Float gets the engine's SIMD versions.
public protocol TrainingScalar: BinaryFloatingPoint, Codable, Sendable {
    static func dot(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, count: Int) -> Self
    /// y[i] += alpha · x[i]
    static func axpy(_ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
}

extension Float: TrainingScalar {
    @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        dotF32(a, b, count: count)
    }
    @inline(__always) public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        axpyF32(alpha, x, y, count: count)
    }
    @inline(__always) public static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }
}

extension Double: TrainingScalar {
    public static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var sum = 0.0
        for i in 0..<count { sum += a[i] * b[i] }
        return sum
    }
    public static func axpy(_ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }
    public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    public static func log(_ x: Double) -> Double { Foundation.log(x) }
}

/// A small seeded generator (SplitMix64): the same seed gives the same
/// initial weights and batches on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * Foundation.log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// A generator for one step of one stream, independent of how many numbers
    /// earlier steps drew — so a resumed run sees the same batches.
    public static func forStep(seed: UInt64, stream: UInt64, step: Int) -> SeededRandom {
        var mix = SeededRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(step) &* 0x8CB9_2BA7_2F3D_8DD7))
        _ = mix.next()
        return mix
    }
}
