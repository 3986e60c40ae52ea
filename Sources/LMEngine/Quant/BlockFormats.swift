import _Builtin_intrinsics.intel
/// One storage format for rows of numbers: how a row of `count` floats is packed
/// into bytes, unpacked again, and dotted against an activation row.
///
/// Each conforming type lives in its own file (F32Format.swift, Q4_0Format.swift, …)
/// and documents its block layout there, with its fast kernels. All members are
/// static: a format is a namespace of functions, not a value. A new format conforms
/// and adds a case to `BlockFormats.format(for:)`; to get a matmul kernel of its own
/// it also conforms to `MatmulKernel` (MatMul.swift), or to `IntBlockDot`
/// (QuantDot.swift) for a 32-element integer block format.
public protocol BlockFormat {
    /// The GGUF type this format reads and writes.
    static var type: GGMLType { get }
    /// The type activations are quantized to before `dot` (ggml's `vec_dot_type`):
    /// Q4_0/Q5_0/Q8_0 → Q8_0, Q4_1/Q5_1 → Q8_1, Q2_K…Q6_K → Q8_K, F16 → F16, BF16 → BF16, F32 → F32.
    static var activationType: GGMLType { get }
    /// src: `type.rowBytes(count)` bytes; dst: `count` floats.
    static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int)
    /// src: `count` floats; dst: `type.rowBytes(count)` bytes. ggml's `quantize_row_*_ref` rounding.
    static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int)
    /// How llama.cpp's CPU backend quantizes *activations* to this type before a dot
    /// product. Same layout as `quantizeRow`; may round differently (see Q8_0Format).
    static func quantizeActivationRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int)
    /// The plain loop of `quantizeActivationRow` (bit-identical to it), which the
    /// reference matmul uses, so the tests that hold the fast matmul to the reference
    /// hold the fast quantizer to its loop too.
    static func quantizeActivationRowReference(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int)
    /// Σ w[i]·a[i]: `w` a row of this type, `a` a row of `activationType`, both `count`
    /// elements. The plain loop, written like ggml's generic `ggml_vec_dot_*`.
    static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float
    /// Same as `dotReference` with SIMD. Integer formats give bit-identical results
    /// (integer sums per block are exact and blocks are accumulated in the same order).
    static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float
}

/// The uniform entry point: pick a format by its GGUF type.
public enum BlockFormats {
    /// The implementation for `type`, or nil when lmlab has none.
    public static func format(for type: GGMLType) -> (any BlockFormat.Type)? {
        switch type {
        case .f32: return F32Format.self
        case .f16: return F16Format.self
        case .bf16: return BF16Format.self
        case .q4_0: return Q4_0Format.self
        case .q4_1: return Q4_1Format.self
        case .q5_0: return Q5_0Format.self
        case .q5_1: return Q5_1Format.self
        case .q8_0: return Q8_0Format.self
        case .q8_1: return Q8_1Format.self
        case .q2_K: return Q2_KFormat.self
        case .q3_K: return Q3_KFormat.self
        case .q4_K: return Q4_KFormat.self
        case .q5_K: return Q5_KFormat.self
        case .q6_K: return Q6_KFormat.self
        case .q8_K: return Q8_KFormat.self
        default: return nil
        }
    }

    public static func isSupported(_ type: GGMLType) -> Bool { format(for: type) != nil }

    static func require(_ type: GGMLType) -> any BlockFormat.Type {
        guard let f = format(for: type) else {
            preconditionFailure("tensor type \(type.name) is not supported by LMEngine's kernels yet")
        }
        return f
    }

    /// Unpacks `count` elements (a whole number of blocks) of `type` into floats.
    public static func dequantizeRow(_ type: GGMLType, src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        require(type).dequantizeRow(src: src, dst: dst, count: count)
    }

    /// Packs `count` floats into `type.rowBytes(count)` bytes with ggml's reference rounding.
    public static func quantizeRow(_ type: GGMLType, src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        require(type).quantizeRow(src: src, dst: dst, count: count)
    }
}

extension BlockFormat {
    /// By default activations are quantized like weights (f32/f16/bf16: plain conversion).
    public static func quantizeActivationRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        quantizeRow(src: src, dst: dst, count: count)
    }
    /// By default there is one activation quantizer, plain enough to be its own reference.
    public static func quantizeActivationRowReference(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        quantizeActivationRow(src: src, dst: dst, count: count)
    }
}

// MARK: - Helpers shared by the block files

extension UnsafeRawPointer {
    /// The fp16 at `offset` as a float (blocks are not aligned in GGUF files).
    @inline(__always)
    func loadHalf(_ offset: Int) -> Float {
        halfToFloat(loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
}

extension UnsafeMutableRawPointer {
    @inline(__always)
    func storeHalf(_ value: Float, _ offset: Int) {
        storeBytes(of: floatToHalf(value), toByteOffset: offset, as: UInt16.self)
    }
}

/// C's `(int)x` on x86: truncates toward zero. The quantizers only call it on values
/// inside a small range; NaN or huge inputs give Int32.min as `cvttss2si` does
/// instead of trapping.
@inline(__always)
func truncatingInt(_ x: Float) -> Int {
    guard x.isFinite, abs(x) < 2_147_483_648 else { return Int(Int32.min) }
    return Int(x)
}

/// C's `roundf`: halves round away from zero. The result is stored to `int8_t`
/// by ggml; values stay within ±127 for the Q8 quantizers.
@inline(__always)
func roundAwayToInt8(_ x: Float) -> Int8 {
    Int8(truncatingIfNeeded: truncatingInt(x.rounded(.toNearestOrAwayFromZero)))
}

// The K-quant fast dots work on 8 lanes of Int32: Swift turns 8-byte → SIMD8<Int32>
// widening into a few shuffles, while its 16- and 32-lane conversions fall back to
// element-by-element code (BENCHMARKS.md, kernel notes). Int32 lanes also rule out overflow.

/// 8 signed bytes at `offset`, sign-extended (vpmovsxbd).
@inline(__always)
func loadInt8x8(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<Int32> {
    signExtend8(p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
}

/// 8 unsigned bytes at `offset`, zero-extended (vpmovzxbd).
@inline(__always)
func loadUInt8x8(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<Int32> {
    zeroExtend8(p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
}

// Why the instructions are named: Swift's generic `SIMD8<Int32>(truncatingIfNeeded:)`
// compiles to the same vpmovzxbd, but inside an out-of-line specialization that returns
// its 8 lanes split over two registers; a profile of a 1B Q4_K_M decode spent a quarter
// of its time in those calls. The AVX2 intrinsics are always inlined (LMEngine is built
// for haswell, so AVX2 is the floor here).

/// The 8 bytes of `v` (byte j = lane j) as unsigned Int32 lanes.
@inline(__always)
func zeroExtend8(_ v: UInt64) -> SIMD8<Int32> {
    unsafeBitCast(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(Int64(bitPattern: v))), to: SIMD8<Int32>.self)
}

/// The 8 bytes of `v` (byte j = lane j) as signed Int32 lanes.
@inline(__always)
func signExtend8(_ v: UInt64) -> SIMD8<Int32> {
    unsafeBitCast(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(Int64(bitPattern: v))), to: SIMD8<Int32>.self)
}
