import Foundation

/// Causal grouped-query attention for one query position over a KV cache.
///
/// q: [heads × headDim]; keys/values: the layer's cache, [positions × kvHeads × headDim] f32,
/// positions 0...pos valid; out: [heads × headDim]; query head h reads kv head
/// h / (heads / kvHeads). Scores are scaled by `scale`.
/// window: if set, key position k is visible only when pos - k < window (sliding-window layers).
/// scratch: at least (pos+1) floats per head ([heads × (pos+1)]) for the probabilities; if
/// `probabilities` is non-nil, the softmaxed weights of each head are written there
/// ([heads × (pos+1)], zero where masked) so a UI can draw attention maps.
public func attention(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                      heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, window: Int?,
                      scratch: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?,
                      mode: KernelMode = .fast) {
    for h in 0..<heads {
        attendOneHead(q: q, keys: keys, values: values, out: out, head: h, heads: heads, kvHeads: kvHeads, headDim: headDim,
                      pos: pos, scale: scale, window: window, scores: scratch + h * (pos + 1),
                      probabilities: probabilities.map { $0 + h * (pos + 1) }, mode: mode)
    }
}

/// The first key position head `pos` may see.
@inline(__always)
func firstVisible(pos: Int, window: Int?) -> Int {
    guard let window else { return 0 }
    return max(0, pos - window + 1)   // pos - k < window  ⇔  k ≥ pos - window + 1
}

/// One head: scores over the visible keys, softmax, weighted sum of values.
/// scores: [pos+1] scratch; probabilities (optional): [pos+1].
func attendOneHead(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                   head h: Int, heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, window: Int?,
                   scores: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?, mode: KernelMode,
                   halfPrecision: Bool = false) {
    let group = heads / kvHeads
    let kvHead = h / group
    let rowStride = kvHeads * headDim   // floats between consecutive positions in the cache
    let qh = q + h * headDim
    let oh = out + h * headDim
    let first = firstVisible(pos: pos, window: window)
    let visible = pos - first + 1

    if halfPrecision {
        // scores: [(pos+1) + headDim] here: the f16-rounded query sits after the scores.
        let q16 = scores + (pos + 1)
        for d in 0..<headDim { q16[d] = roundedToHalf(qh[d]) }
        let kBase = keys + kvHead * headDim, vBase = values + kvHead * headDim
        if mode == .reference {
            flashAttentionHalfReference(q: q16, keys: kBase, values: vBase, stride: rowStride, first: first, last: pos,
                                        headDim: headDim, scale: scale, out: oh)
        } else {
            flashAttentionHalf(q: q16, keys: kBase, values: vBase, stride: rowStride, first: first, last: pos,
                               headDim: headDim, scale: scale, out: oh)
        }
        if let probabilities {
            // Only for pictures of attention: the plain softmax of the same scores.
            for k in first...pos { scores[k - first] = dotF32(qh, keys + k * rowStride + kvHead * headDim, count: headDim) * scale }
            softmax(scores, count: visible)
            for k in 0..<first { probabilities[k] = 0 }
            for k in first...pos { probabilities[k] = scores[k - first] }
        }
        return
    }

    if mode == .reference {
        for k in first...pos {
            let key = keys + k * rowStride + kvHead * headDim
            var s: Float = 0
            for d in 0..<headDim { s += qh[d] * key[d] }
            scores[k - first] = s * scale
        }
        softmaxReference(scores, count: visible)
        for d in 0..<headDim { oh[d] = 0 }
        for k in first...pos {
            let value = values + k * rowStride + kvHead * headDim
            let p = scores[k - first]
            for d in 0..<headDim { oh[d] += p * value[d] }
        }
    } else {
        for k in first...pos {
            scores[k - first] = dotF32(qh, keys + k * rowStride + kvHead * headDim, count: headDim) * scale
        }
        softmax(scores, count: visible)
        oh.update(repeating: 0, count: headDim)
        for k in first...pos {
            axpyF32(scores[k - first], values + k * rowStride + kvHead * headDim, oh, count: headDim)
        }
    }

    if let probabilities {
        for k in 0..<first { probabilities[k] = 0 }
        for k in first...pos { probabilities[k] = scores[k - first] }
    }
}

extension ComputeContext {
    /// `attention` for all heads, split across the pool's threads, with the context's
    /// own scratch. Shapes as in the free function.
    public func attention(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                          heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, window: Int?,
                          probabilities: UnsafeMutablePointer<Float>? = nil) {
        // One query at position pos is a batch of one starting there; the layouts agree.
        attentionBatch(q: q, keys: keys, values: values, out: out, n: 1, p0: pos, heads: heads, kvHeads: kvHeads,
                       headDim: headDim, scale: scale, window: window, probabilities: probabilities)
    }

    /// Prefill: n queries at positions p0..<p0+n, each attending causally to the cache,
    /// which must already hold positions 0..<p0+n.
    /// q, out: [n × heads × headDim]. probabilities (optional): [n × heads × (p0+n)],
    /// query t's row for head h at (t*heads + h)*(p0+n), zero beyond its own position.
    public func attentionBatch(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                               n: Int, p0: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float, window: Int?,
                               probabilities: UnsafeMutablePointer<Float>? = nil) {
        let t = attentionTask
        t.q = q; t.keys = keys; t.values = values; t.out = out; t.probabilities = probabilities
        t.n = n; t.p0 = p0; t.heads = heads; t.kvHeads = kvHeads; t.headDim = headDim
        t.scale = scale; t.window = window; t.mode = mode
        t.halfPrecision = activations == .q8
        t.scratch = floatsPerWorker(p0 + n + headDim)
        // Short contexts are too little work to be worth waking a second thread for.
        let work = n * heads * (p0 + n) * headDim * 2
        dispatch(t, count: work >= minParallelWork ? n * heads : 1)
    }
}

/// One attention call's state for the pool: the n·heads (query, head) pairs are split
/// into contiguous chunks; each worker keeps its scores (and f16 query) in its own
/// (p0+n+headDim)-float scratch.
final class AttentionTask: PoolTask {
    var q: UnsafePointer<Float>?, keys: UnsafePointer<Float>?, values: UnsafePointer<Float>?
    var out: UnsafeMutablePointer<Float>?, probabilities: UnsafeMutablePointer<Float>?
    var scratch: UnsafeMutablePointer<Float>?   // [workers × (p0+n)]
    var n = 1, p0 = 0, heads = 1, kvHeads = 1, headDim = 1
    var scale: Float = 1
    var window: Int?
    var mode = KernelMode.fast
    var halfPrecision = false

    func run(worker: Int, workers: Int) {
        guard let q, let keys, let values, let out, let scratch else { return }
        let jobs = n * heads, span = p0 + n, perWorker = span + headDim
        for job in (jobs * worker / workers)..<(jobs * (worker + 1) / workers) {
            let t = job / heads, h = job % heads
            let pos = p0 + t
            let row = probabilities.map { $0 + job * span }
            attendOneHead(q: q + t * heads * headDim, keys: keys, values: values, out: out + t * heads * headDim,
                          head: h, heads: heads, kvHeads: kvHeads, headDim: headDim, pos: pos, scale: scale, window: window,
                          scores: scratch + worker * perWorker, probabilities: row, mode: mode, halfPrecision: halfPrecision)
            if let row { for k in (pos + 1)..<span { row[k] = 0 } }
        }
    }
}

// MARK: - llama.cpp's flash attention

/// x rounded to the nearest fp16 value (ties to even), as a float: what storing into
/// an f16 tensor and reading it back gives.
@inline(__always)
public func roundedToHalf(_ x: Float) -> Float { halfToFloat(floatToHalf(x)) }

/// One query head over keys first...last as llama.cpp's CPU flash attention computes it
/// (`ggml_compute_forward_flash_attn_ext_f16_one_chunk`, f16 K/V cache), the plain loop:
///   - q (already rounded to f16) · each f16 key, summed the way `ggml_vec_dot_f16`
///     does (`dotHalfReference`), times `scale`;
///   - an online softmax: the running output V is kept in **f16** and rescaled by
///     e^(M_old − M) whenever a new maximum M appears; each value row is added as
///     V = f16(fma(v, e^(s − M), V)), and the running sum S = fma(S, ms, vs);
///   - out = V / S at the end.
/// keys/values: the layer's cache (f16-rounded floats) at this kv head, `stride` floats
/// per position. q, out: [headDim].
func flashAttentionHalfReference(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                 stride: Int, first: Int, last: Int, headDim: Int, scale: Float,
                                 out: UnsafeMutablePointer<Float>) {
    var m = -Float.infinity, sum: Float = 0
    for d in 0..<headDim { out[d] = 0 }
    for k in first...last {
        let s = dotHalfReference(q, keys + k * stride, count: headDim) * scale
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
                        stride: Int, first: Int, last: Int, headDim: Int, scale: Float,
                        out: UnsafeMutablePointer<Float>) {
    guard headDim % 16 == 0 else {
        flashAttentionHalfReference(q: q, keys: keys, values: values, stride: stride, first: first, last: last,
                                    headDim: headDim, scale: scale, out: out)
        return
    }
    let o = UnsafeMutableRawPointer(out)
    var m = -Float.infinity, sum: Float = 0
    out.update(repeating: 0, count: headDim)
    for k in first...last {
        let s = dotHalf(q, keys + k * stride, count: headDim) * scale
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
