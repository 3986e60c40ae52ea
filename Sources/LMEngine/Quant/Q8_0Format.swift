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
    /// time (see `Int8Rounding.activations`): the SIMD block quantizer.
    public static func quantizeActivationRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let block = dst + b * blockBytes
            block.storeHalf(quantizeInt8BlockActivations(src + b * 32, codes: block + codesOffset).d, scaleOffset)
        }
    }

    /// The plain loop of `quantizeActivationRow`.
    public static func quantizeActivationRowReference(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
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

/// `quantizeInt8Block(x, codes:, rounding: .activations)` with SIMD, bit-identical to it:
/// max|x| over four 8-lane vectors; x·(127/max) to integers by vcvtps2dq (rounding to
/// nearest even, as `_mm256_round_ps` then a conversion does; out of range and NaN give
/// Int32.min); two saturating packs to bytes (the plain loop's clamp to −128…127, and
/// Int32.min → −128 like it), and a lane permutation that undoes the packs' 128-bit
/// interleave. `sum` = Σ codes, from the bytes.
@inline(__always)
func quantizeInt8BlockActivations(_ x: UnsafePointer<Float>, codes: UnsafeMutableRawPointer) -> (d: Float, sum: Int) {
    let p = UnsafeRawPointer(x)
    let v0 = p.loadUnaligned(as: SIMD8<Float>.self), v1 = p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
    let v2 = p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), v3 = p.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
    // (vmaxps, not the standard library's generic pointwiseMax, which stays a call)
    @inline(__always) func magnitude(_ v: SIMD8<Float>) -> __m256 {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: __m256.self)
    }
    let m8 = unsafeBitCast(_mm256_max_ps(_mm256_max_ps(magnitude(v0), magnitude(v1)), _mm256_max_ps(magnitude(v2), magnitude(v3))),
                           to: SIMD8<Float>.self)
    let m4 = unsafeBitCast(_mm_max_ps(unsafeBitCast(m8.lowHalf, to: __m128.self), unsafeBitCast(m8.highHalf, to: __m128.self)),
                           to: SIMD4<Float>.self)
    let amax = max(max(m4[0], m4[1]), max(m4[2], m4[3]))
    let id: Float = amax != 0 ? 127 / amax : 0
    let scale = SIMD8<Float>(repeating: id)
    @inline(__always) func integers(_ v: SIMD8<Float>) -> __m256i {
        _mm256_cvtps_epi32(unsafeBitCast(v * scale, to: __m256.self))
    }
    let words = _mm256_packs_epi32(integers(v0), integers(v1)), words2 = _mm256_packs_epi32(integers(v2), integers(v3))
    let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(words, words2), _mm256_set_epi32(7, 3, 6, 2, 5, 1, 4, 0))
    codes.storeBytes(of: bytes, as: __m256i.self)
    let sum = integerSum(_mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), bytes), _mm256_set1_epi16(1)))
    return (amax / 127, Int(sum))
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
