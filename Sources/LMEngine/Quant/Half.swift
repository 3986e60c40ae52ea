/// Half-precision (IEEE fp16) and bfloat16 conversions, done on the bits.
///
/// GGUF stores every f16 as a little-endian `UInt16`. We decode with shifts and
/// masks rather than Swift's `Float16`, so the rounding is spelled out here and
/// behaves the same on every platform.
///
/// fp16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
/// bf16: 1 sign bit, 8 exponent bits (bias 127), 7 mantissa bits: the top half of an fp32.

/// fp16 bits → fp32, exact (every fp16 value is an fp32 value).
@inline(__always)
public func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    var mantissa = UInt32(h) & 0x3FF
    if exponent == 0x1F {
        // Inf keeps a zero mantissa; NaN keeps its payload (shifted into place).
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent == 0 {
        if mantissa == 0 { return Float(bitPattern: sign) }  // ±0
        // Subnormal: value = mantissa · 2^-24. Shift the mantissa up until its
        // leading 1 reaches the implicit-bit position, lowering the exponent.
        var e = 1
        while mantissa & 0x400 == 0 { mantissa <<= 1; e -= 1 }
        mantissa &= 0x3FF
        return Float(bitPattern: sign | (UInt32(e + 112) << 23) | (mantissa << 13))
    }
    // Normal: rebias the exponent from 15 to 127 (+112).
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// fp32 → fp16 bits, rounding to nearest with ties to even (what x86 F16C's
/// `vcvtps2ph` does with the default rounding mode). Too large → ±inf; too small
/// → a subnormal or ±0; NaN stays NaN with the quiet bit set and the top payload
/// bits kept.
///
/// This is F16C's `vcvtps2ph` itself (Swift's Float16 conversion compiles to it on the
/// haswell target): the GELU table lookups and the f16 attention round every value.
/// `floatToHalfReference` spells the rounding out; a test holds them equal.
@inline(__always)
public func floatToHalf(_ f: Float) -> UInt16 { Float16(f).bitPattern }

/// `floatToHalf` as a plain loop over the bits.
public func floatToHalfReference(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x7F_FFFF
    if exponent == 0xFF {
        if mantissa == 0 { return sign | 0x7C00 }
        return sign | 0x7E00 | UInt16(truncatingIfNeeded: mantissa >> 13)
    }
    let e = exponent - 127 + 15  // the fp16 exponent field this value would have
    if e >= 31 { return sign | 0x7C00 }
    if e <= 0 {
        // Subnormal result: value / 2^-24 = (1.m · 2^23) >> (14 - e), rounded.
        let shift = 14 - e
        if shift > 24 { return sign }  // below half the smallest subnormal: ±0
        let full = mantissa | 0x80_0000
        var h = full >> UInt32(shift)
        let rest = full & ((1 << UInt32(shift)) - 1)
        let halfway: UInt32 = 1 << UInt32(shift - 1)
        if rest > halfway || (rest == halfway && h & 1 == 1) { h += 1 }
        // A carry out of the mantissa yields the smallest normal, which is right.
        return sign | UInt16(h)
    }
    var h = UInt32(e) << 10 | (mantissa >> 13)
    let rest = mantissa & 0x1FFF
    if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) { h += 1 }
    // A carry may ripple into the exponent; from 65504 upward it reaches 0x7C00 = inf.
    return sign | UInt16(h)
}

/// bf16 bits → fp32: the bf16 is the top 16 bits of the fp32.
@inline(__always)
public func bf16ToFloat(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}

/// fp32 → bf16 bits, round to nearest even as ggml's `ggml_compute_fp32_to_bf16`:
/// NaN is forced quiet (bit 6 of the result), everything else gets the rounding
/// bias added before truncation (which also rounds huge finite values to inf).
@inline(__always)
public func floatToBF16(_ f: Float) -> UInt16 {
    let u = f.bitPattern
    if u & 0x7FFF_FFFF > 0x7F80_0000 {
        return UInt16(truncatingIfNeeded: u >> 16) | 0x40
    }
    return UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
}

/// Eight fp16 values at once, for the fast F16 kernels. Same results as
/// `halfToFloat` lane by lane (the test checks all 65536 patterns).
/// Branch-free: compute the normal and the subnormal reading of every lane, then select.
@inline(__always)
public func halfToFloat(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
    // Zero-extend to 32 bits (this unsigned-to-unsigned widening compiles to shuffles).
    halfBitsToFloat(unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h), to: SIMD8<Int32>.self))
}

/// The conversion on fp16 bit patterns already in the low 16 bits of 32-bit lanes
/// (upper bits zero). The F16 dot product feeds it even and odd halves split with a
/// mask and a shift, which stays in vector registers (the generic widening above
/// becomes a function call in a hot loop).
@inline(__always)
public func halfBitsToFloat(_ w: SIMD8<Int32>) -> SIMD8<Float> {
    let sign = (w & 0x8000) &<< 16
    let magnitude = w & 0x7FFF
    let exponent = magnitude & 0x7C00
    // Normal numbers: exponent+mantissa moved into place and rebiased by 112.
    var bits = (magnitude &<< 13) &+ 0x3800_0000
    // Inf/NaN (exponent all ones): rebias by another 112 so the fp32 exponent is all ones too.
    // (Masks are built by hand: SIMD `replace(with:where:)` compiles to scalar code here.)
    let isSpecial = SIMD8<Int32>(repeating: 0) &- ((exponent &+ 0x0400) &>> 15)   // all ones where exponent == 0x7C00
    bits = bits &+ (isSpecial & 0x3800_0000)
    // Zero and subnormals, m·2^-24: read (m << 13) as the mantissa of 2^-14 · 1.m
    // and subtract 2^-14, which is exact.
    let asNormal = unsafeBitCast((magnitude &<< 13) | 0x3880_0000, to: SIMD8<Float>.self) - 0x1p-14
    let isTiny = ((exponent &- 1) &>> 31)   // all ones where exponent == 0 (arithmetic shift of -1)
    bits = (bits & ~isTiny) | (unsafeBitCast(asNormal, to: SIMD8<Int32>.self) & isTiny)
    return unsafeBitCast(bits | sign, to: SIMD8<Float>.self)
}
