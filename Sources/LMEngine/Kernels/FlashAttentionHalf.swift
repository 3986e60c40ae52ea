import Foundation

/// Attention with llama.cpp's arithmetic, for logits bit-identical to llama.cpp's.
///
/// llama.cpp's CPU backend keeps the KV cache in f16 and runs flash attention over it
/// (`ggml_compute_forward_flash_attn_ext_f16_one_chunk`): the query rounded to f16, f16
/// dot products in `ggml_vec_dot_f16`'s lane order, and an online softmax whose running
/// output is itself kept in f16. The idea is the one of `attentionReference`
/// (Attention.swift); only the float order and the roundings differ. As everywhere in
/// the kernels, the plain loop (`flashAttentionHalfReference`, `dotHalfReference`) comes
/// first and the SIMD version (`flashAttentionHalf`, `dotHalf`) beside it is bit-identical
/// to it (LlamaCppArithmeticTests).

/// One head of `ComputeContext.attentionBatch` with `.q8` activations. The cache holds
/// f16-rounded floats (DecoderModel rounds what it stores).
/// scratch: [(pos+1) + headDim]: the scores (for `probabilities` only), then the f16-rounded
/// query. probabilities (optional): [pos+1], the plain softmax of the same scores, for
/// pictures of attention only.
func attendOneHeadHalf(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                       head h: Int, heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, softCap: Float?, window: Int?,
                       scratch: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?, mode: KernelMode) {
    let score = AttentionScore(scale: scale, softCap: softCap)
    let kvHead = h / (heads / kvHeads)
    let rowStride = kvHeads * headDim
    let qh = q + h * headDim, oh = out + h * headDim
    let first = firstVisible(pos: pos, window: window)
    let q16 = scratch + (pos + 1)
    for d in 0..<headDim { q16[d] = roundedToHalf(qh[d]) }
    let kBase = keys + kvHead * headDim, vBase = values + kvHead * headDim
    if mode == .reference {
        flashAttentionHalfReference(q: q16, keys: kBase, values: vBase, stride: rowStride, first: first, last: pos,
                                    headDim: headDim, score: score, out: oh)
    } else {
        flashAttentionHalf(q: q16, keys: kBase, values: vBase, stride: rowStride, first: first, last: pos,
                           headDim: headDim, score: score, out: oh)
    }
    if let probabilities {
        pictureProbabilities(qh, keys: keys + kvHead * headDim, stride: rowStride, first: first, last: pos, headDim: headDim,
                             score: score, scores: scratch, into: probabilities)
    }
}

/// x rounded to the nearest fp16 value (ties to even), as a float: what storing into
/// an f16 tensor and reading it back gives.
@inline(__always)
public func roundedToHalf(_ x: Float) -> Float { halfToFloat(floatToHalf(x)) }

/// One query head over keys first...last as llama.cpp's CPU flash attention computes it
/// (`ggml_compute_forward_flash_attn_ext_f16_one_chunk`, f16 K/V cache), the plain loop:
///   - q (already rounded to f16) · each f16 key, summed the way `ggml_vec_dot_f16`
///     does (`dotHalfReference`), times the scale (and soft-capped, `AttentionScore`);
///   - an online softmax: the running output V is kept in **f16** and rescaled by
///     e^(M_old − M) whenever a new maximum M appears; each value row is added as
///     V = f16(fma(v, e^(s − M), V)), and the running sum S = fma(S, ms, vs);
///   - out = V / S at the end.
/// keys/values: the layer's cache (f16-rounded floats) at this kv head, `stride` floats
/// per position. q, out: [headDim].
func flashAttentionHalfReference(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                 stride: Int, first: Int, last: Int, headDim: Int, score: AttentionScore,
                                 out: UnsafeMutablePointer<Float>) {
    var m = -Float.infinity, sum: Float = 0
    for d in 0..<headDim { out[d] = 0 }
    for k in first...last {
        let s = score(dotHalfReference(q, keys + k * stride, count: headDim))
        var ms: Float = 1, vs: Float = 1
        if s > m {
            let old = m
            m = s
            ms = expf(old - m)
            for d in 0..<headDim { out[d] = roundedToHalf(out[d] * ms) }
        } else {
            vs = expf(s - m)
        }
        let v = values + k * stride
        for d in 0..<headDim { out[d] = roundedToHalf(out[d].addingProduct(v[d], vs)) }
        sum = vs.addingProduct(sum, ms)
    }
    let inverse: Float = sum == 0 ? 0 : 1 / sum
    for d in 0..<headDim { out[d] *= inverse }
}

/// `ggml_vec_dot_f16` (AVX-512 build) as a plain loop: 64 float lanes (4 registers of
/// 16), lane l accumulating elements l, l+64, … with fused multiply-adds; registers
/// (0+2) and (1+3), then those two, are added; the 16 lanes are reduced as
/// `_mm512_reduce_add_ps` does; the tail past a multiple of 64 is added in double.
func dotHalfReference(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    let whole = count - count % 64
    var lanes = [Float](repeating: 0, count: 64)
    var i = 0
    while i < whole {
        for l in 0..<64 { lanes[l] = lanes[l].addingProduct(x[i + l], y[i + l]) }
        i += 64
    }
    var r = [Float](repeating: 0, count: 16)
    for l in 0..<16 { r[l] = (lanes[l] + lanes[32 + l]) + (lanes[16 + l] + lanes[48 + l]) }
    var eight = [Float](repeating: 0, count: 8)
    for l in 0..<8 { eight[l] = r[l + 8] + r[l] }
    var four = [Float](repeating: 0, count: 4)
    for l in 0..<4 { four[l] = eight[l + 4] + eight[l] }
    var sum = Double((four[0] + four[2]) + (four[1] + four[3]))
    for j in whole..<count { sum += Double(x[j] * y[j]) }
    return Float(sum)
}

/// `flashAttentionHalfReference` with SIMD16 (bit-identical to it).
func flashAttentionHalf(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                        stride: Int, first: Int, last: Int, headDim: Int, score: AttentionScore,
                        out: UnsafeMutablePointer<Float>) {
    guard headDim % 16 == 0 else {
        flashAttentionHalfReference(q: q, keys: keys, values: values, stride: stride, first: first, last: last,
                                    headDim: headDim, score: score, out: out)
        return
    }
    let o = UnsafeMutableRawPointer(out)
    var m = -Float.infinity, sum: Float = 0
    out.update(repeating: 0, count: headDim)
    for k in first...last {
        let s = score(dotHalf(q, keys + k * stride, count: headDim))
        var ms: Float = 1, vs: Float = 1
        if s > m {
            let old = m
            m = s
            ms = expf(old - m)
            var d = 0
            while d < headDim {
                o.storeBytes(of: roundedToHalf16(o.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self) * ms),
                             toByteOffset: 4 * d, as: SIMD16<Float>.self)
                d += 16
            }
        } else {
            vs = expf(s - m)
        }
        let v = UnsafeRawPointer(values + k * stride)
        let vsv = SIMD16<Float>(repeating: vs)
        var d = 0
        while d < headDim {
            let acc = o.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self)
            o.storeBytes(of: roundedToHalf16(acc.addingProduct(v.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self), vsv)),
                         toByteOffset: 4 * d, as: SIMD16<Float>.self)
            d += 16
        }
        sum = vs.addingProduct(sum, ms)
    }
    let inverse: Float = sum == 0 ? 0 : 1 / sum
    for d in 0..<headDim { out[d] *= inverse }
}

/// `dotHalfReference` with SIMD16 (bit-identical to it).
@inline(__always)
func dotHalf(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    let whole = count - count % 64
    let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
    var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
    var i = 0
    while i < whole {
        s0 = s0.addingProduct(rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self),
                              ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        s1 = s1.addingProduct(rx.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self),
                              ry.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self))
        s2 = s2.addingProduct(rx.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self),
                              ry.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self))
        s3 = s3.addingProduct(rx.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self),
                              ry.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self))
        i += 64
    }
    let r = (s0 + s2) + (s1 + s3)
    var sum = Double(hsum8(r.lowHalf + r.highHalf))
    for j in whole..<count { sum += Double(x[j] * y[j]) }
    return Float(sum)
}

/// Each lane rounded to the nearest fp16 value (ties to even), as floats, equal to
/// `roundedToHalf` lane by lane. In SIMD for |v| < 65520 (normal and subnormal fp16
/// range); lanes beyond (overflow to ±inf) or NaN take the scalar route.
@inline(__always)
public func roundedToHalf16(_ v: SIMD16<Float>) -> SIMD16<Float> {
    let bits = unsafeBitCast(v, to: SIMD16<UInt32>.self)
    let magnitude = bits & 0x7FFF_FFFF
    guard allLanes(lanesBelow(magnitude, 0x477F_F000)) else {
        var out = SIMD16<Float>()
        for i in 0..<16 { out[i] = roundedToHalf(v[i]) }
        return out
    }
    // Normal fp16 range (|v| ≥ 2^-14): round the fp32 mantissa to 10 bits, ties to
    // even, on the bits.
    let lsb = (bits &>> 13) & 1
    let normal = (bits &+ 0x0FFF &+ lsb) & 0xFFFF_E000
    // Below 2^-14 fp16 steps are 2^-24: adding 0.5 (whose ulp is 2^-24) to |v| rounds it
    // to that step, ties to even; subtracting 0.5 again is exact.
    let absolute = unsafeBitCast(magnitude, to: SIMD16<Float>.self)
    let small = unsafeBitCast((absolute + 0.5) - 0.5, to: SIMD16<UInt32>.self) | (bits & 0x8000_0000)
    return unsafeBitCast(select(lanesBelow(magnitude, 0x3880_0000), small, normal), to: SIMD16<Float>.self)
}
