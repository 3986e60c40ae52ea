import _Builtin_intrinsics.intel
/// Q8_0: blocks of 32 weights, 34 bytes each.
///
///     offset 0   d       fp16   scale
///     offset 2   qs[32]  int8   weight j = qs[j] · d
///
/// Also the activation format for Q4_0, Q5_0 and Q8_0 weights.
public enum Q8_0Format: BlockFormat {
    public static var type: GGMLType { .q8_0 }
    public static var activationType: GGMLType { .q8_0 }
    // The layout above as constants (computed: a static let costs a lazy-init check per use).
    @inline(__always) static var blockBytes: Int { 34 }
    @inline(__always) static var scaleOffset: Int { 0 }
    @inline(__always) static var codesOffset: Int { 2 }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 32 {
            let block = src + b * blockBytes
            let d = block.loadHalf(scaleOffset)
            for j in 0..<32 {
                dst[b * 32 + j] = Float(block.load(fromByteOffset: codesOffset + j, as: Int8.self)) * d
            }
        }
    }

    /// ggml's `quantize_row_q8_0_ref`: d = max|x| / 127, q = roundf(x · (1/d)).
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let block = dst + b * blockBytes
            block.storeHalf(quantizeInt8Block(src + b * 32, codes: block + codesOffset, rounding: .reference).d, scaleOffset)
        }
    }

    /// Activations, as llama.cpp's x86 (AVX/AVX2) `quantize_row_q8_0` does them at run
    /// time (see `Int8Rounding.activations`).
    public static func quantizeActivationRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let block = dst + b * blockBytes
            block.storeHalf(quantizeInt8Block(src + b * 32, codes: block + codesOffset, rounding: .activations).d, scaleOffset)
        }
    }

    /// llama.cpp's order (`blockDotReference`, QuantDot.swift): per block, groups of 4
    /// exact products into 8 float lanes with fma(d_w·d_a, group, lane), the lanes added
    /// pairwise at the end.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        blockDotReference(Self.self, w, a, count: count)
    }

    /// The SIMD version of `dotReference` (QuantDot.swift), bit-identical to it.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        dotRowLanes(w, a, count: count)
    }
}

extension Q8_0Format: IntBlockDot {
    static var minimumOffset: Int? { nil }

    @inline(__always) static func integer(_ block: UnsafeRawPointer, element j: Int) -> Int32 {
        Int32(block.load(fromByteOffset: codesOffset + j, as: Int8.self))
    }

    @inline(__always) static func codeBytes(_ x: UnsafeRawPointer) -> __m256i {
        x.loadUnaligned(fromByteOffset: codesOffset, as: __m256i.self)
    }
}

/// How the 8-bit block quantizer (shared by Q8_0 and Q8_1) rounds.
enum Int8Rounding {
    /// ggml's `quantize_row_q8_*_ref`: q = roundf(x · (1/d)), halves away from zero.
    case reference
    /// llama.cpp's x86 run-time activation path: the multiplier is 127/max rather than
    /// 1/d, and halves round to even (`_mm256_round_ps`). Differs from `.reference` only
    /// in rare last-bit cases, but reproducing llama.cpp's logits needs the same codes.
    case activations
}

/// Quantizes 32 floats at `x` to 32 int8 codes at `codes` with d = max|x| / 127.
/// Returns d (before fp16 rounding) and the sum of the codes (Q8_1 stores d · Σ).
@inline(__always)
func quantizeInt8Block(_ x: UnsafePointer<Float>, codes: UnsafeMutableRawPointer, rounding: Int8Rounding) -> (d: Float, sum: Int) {
    var amax: Float = 0
    for j in 0..<32 { amax = max(amax, abs(x[j])) }
    let d = amax / 127
    var sum = 0
    switch rounding {
    case .reference:
        let id: Float = d != 0 ? 1 / d : 0
        for j in 0..<32 {
            let q = roundAwayToInt8(x[j] * id)
            codes.storeBytes(of: q, toByteOffset: j, as: Int8.self)
            sum += Int(q)
        }
    case .activations:
        let id: Float = amax != 0 ? 127 / amax : 0
        for j in 0..<32 {
            let q = max(-128, min(127, truncatingInt((x[j] * id).rounded(.toNearestOrEven))))
            codes.storeBytes(of: Int8(truncatingIfNeeded: q), toByteOffset: j, as: Int8.self)
            sum += q
        }
    }
    return (d, sum)
}
