import _Builtin_intrinsics.intel
// Shared pieces of the K-quant formats (Q2_K … Q6_K, Q8_K): super-blocks of 256
// weights split into sub-blocks of 16 or 32, each sub-block with its own small
// integer scale (and for Q2_K/Q4_K/Q5_K a min), the scales themselves quantized
// against one fp16 per super-block.
//
// The reference quantizers pick each sub-block's scale by a small search. The
// searches below follow ggml-quants.c step by step, in the same float operation
// order (no fused multiply-adds), because llama-quantize without an imatrix runs
// exactly these, and we want the same bytes out.

/// Elements in a K-quant super-block (ggml's QK_K).
let superBlock = 256

/// ggml's `nearest_int`: adds 1.5·2^23 so the float adder rounds to an integer
/// (halves to even) and reads the integer out of the mantissa bits. Exact for
/// |x| ≤ 2^22; outside that ggml asserts in debug builds and returns garbage in
/// release — reproduced bit for bit, since callers clamp the result afterwards.
@inline(__always)
func nearestInt(_ x: Float) -> Int {
    let shifted = x + 12_582_912
    return Int(Int32(bitPattern: shifted.bitPattern & 0x007F_FFFF) - 0x0040_0000)
}

/// ggml's GROUP_MAX_EPS: a group whose largest |x| is below this counts as all zero.
let groupMaxEps: Float = 1e-15

/// ggml's `make_qx_quants` for symmetric codes: finds a scale s so that
/// x[i] ≈ s · (L[i] - nmax) with L[i] in 0..<2·nmax, returns s.
///
/// x, L: n elements. Starts from the scale that maps the value of largest
/// magnitude to -nmax, then (rmseType ≠ 0) tries 18 nearby scales and keeps the one
/// with the best weighted least-squares fit; weights per rmseType:
/// 1: x², 2: 1, 3: |x|, else √|x|. A negative rmseType returns early after one fit.
/// Only Q6_K uses it here (rmseType 1, no imatrix weights).
func makeQXQuants(n: Int, nmax: Int, x: UnsafePointer<Float>, L: UnsafeMutablePointer<Int8>, rmseType: Int) -> Float {
    var maxValue: Float = 0, amax: Float = 0
    for i in 0..<n where abs(x[i]) > amax { amax = abs(x[i]); maxValue = x[i] }
    if amax < groupMaxEps {
        for i in 0..<n { L[i] = 0 }
        return 0
    }
    let fmax = Float(nmax)
    var iscale = -fmax / maxValue
    // l clamped to [-nmax, nmax-1], as ggml does with MAX/MIN.
    func code(_ v: Float) -> Int { max(-nmax, min(nmax - 1, nearestInt(v))) }
    if rmseType == 0 {
        for i in 0..<n { L[i] = Int8(truncatingIfNeeded: nmax + code(iscale * x[i])) }
        return 1 / iscale
    }
    var type = rmseType
    var returnEarly = false
    if type < 0 { type = -type; returnEarly = true }
    func weight(_ v: Float) -> Float {
        switch type {
        case 1: return v * v
        case 2: return 1
        case 3: return abs(v)
        default: return abs(v).squareRoot()
        }
    }
    var sumlx: Float = 0, suml2: Float = 0
    for i in 0..<n {
        let l = code(iscale * x[i])
        L[i] = Int8(truncatingIfNeeded: l + nmax)
        let w = weight(x[i]), fl = Float(l)
        sumlx += w * x[i] * fl
        suml2 += w * fl * fl
    }
    var scale: Float = suml2 != 0 ? sumlx / suml2 : 0
    if returnEarly { return suml2 > 0 ? 0.5 * (scale + 1 / iscale) : 1 / iscale }
    var best = scale * sumlx
    for step in -9...9 where step != 0 {
        iscale = -(fmax + 0.1 * Float(step)) / maxValue
        sumlx = 0; suml2 = 0
        for i in 0..<n {
            let l = code(iscale * x[i])
            let w = weight(x[i]), fl = Float(l)
            sumlx += w * x[i] * fl
            suml2 += w * fl * fl
        }
        if suml2 > 0 && sumlx * sumlx > best * suml2 {
            for i in 0..<n { L[i] = Int8(truncatingIfNeeded: nmax + code(iscale * x[i])) }
            scale = sumlx / suml2
            best = scale * sumlx
        }
    }
    return scale
}

/// ggml's `make_q3_quants` with do_rmse: symmetric codes L in 0..<2·nmax for
/// x ≈ s · (L - nmax), weights x². Starts from the max-magnitude scale, then up to
/// 5 passes of coordinate descent: move one code at a time to where it best fits
/// the current least-squares scale, keep the move if the fit (sumlx²/suml2) grows.
/// x, L: n elements. Returns s.
func makeQ3Quants(n: Int, nmax: Int, x: UnsafePointer<Float>, L: UnsafeMutablePointer<Int8>) -> Float {
    var maxValue: Float = 0, amax: Float = 0
    for i in 0..<n where abs(x[i]) > amax { amax = abs(x[i]); maxValue = x[i] }
    if amax < groupMaxEps {
        for i in 0..<n { L[i] = 0 }
        return 0
    }
    let iscale = Float(-nmax) / maxValue
    func clampCode(_ l: Int) -> Int { max(-nmax, min(nmax - 1, l)) }
    // L holds the signed code (-nmax..<nmax) during the search.
    var sumlx: Float = 0, suml2: Float = 0
    for i in 0..<n {
        let l = clampCode(nearestInt(iscale * x[i]))
        L[i] = Int8(truncatingIfNeeded: l)
        let w = x[i] * x[i], fl = Float(l)
        sumlx += w * x[i] * fl
        suml2 += w * fl * fl
    }
    for _ in 0..<5 {
        var changed = 0
        for i in 0..<n {
            let w = x[i] * x[i], li = Float(L[i])
            var slx = sumlx - w * x[i] * li
            if slx > 0 {
                var sl2 = suml2 - w * li * li
                let newL = clampCode(nearestInt(x[i] * sl2 / slx))
                if newL != Int(L[i]) {
                    let fl = Float(newL)
                    slx += w * x[i] * fl
                    sl2 += w * fl * fl
                    if sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2 {
                        L[i] = Int8(truncatingIfNeeded: newL); sumlx = slx; suml2 = sl2
                        changed += 1
                    }
                }
            }
        }
        if changed == 0 { break }
    }
    for i in 0..<n { L[i] = Int8(truncatingIfNeeded: Int(L[i]) + nmax) }
    return suml2 > 0 ? sumlx / suml2 : 0
}

/// ggml's `make_qkx2_quants`: affine codes x ≈ scale · L - theMin with L in 0...nmax
/// and theMin ≥ 0 (stored as a positive number, subtracted on dequantization).
///
/// x, weights, L: n elements. First fit: min(x, 0) to max(x) split evenly; then
/// nstep+1 trial grids with (nmax + rmin + rdelta·k) steps across the range, each
/// refit by weighted least squares for scale and min; keeps the trial with the
/// smallest weighted error (|diff| when useMad, else diff²). Returns (scale, theMin).
func makeQKX2Quants(n: Int, nmax: Int, x: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                    L: UnsafeMutablePointer<UInt8>, rmin: Float, rdelta: Float, nstep: Int,
                    useMad: Bool) -> (scale: Float, theMin: Float) {
    var lo = x[0], hi = x[0]
    var sumW = weights[0]
    var sumX = sumW * x[0]
    for i in 1..<n {
        if x[i] < lo { lo = x[i] }
        if x[i] > hi { hi = x[i] }
        let w = weights[i]
        sumW += w
        sumX += w * x[i]
    }
    if lo > 0 { lo = 0 }
    if hi == lo {
        for i in 0..<n { L[i] = 0 }
        return (0, -lo)
    }
    let fmax = Float(nmax)
    func penalty(_ diff: Float) -> Float { useMad ? abs(diff) : diff * diff }
    var iscale = fmax / (hi - lo)
    var scale = 1 / iscale
    var bestError: Float = 0
    for i in 0..<n {
        let l = max(0, min(nmax, nearestInt(iscale * (x[i] - lo))))
        L[i] = UInt8(l)
        let diff = scale * Float(l) + lo - x[i]
        bestError += weights[i] * penalty(diff)
    }
    if nstep < 1 { return (scale, -lo) }
    // Trial codes, n ≤ 32 elements.
    var trial = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    return withUnsafeMutableBytes(of: &trial) { raw in
        let laux = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        precondition(n <= raw.count)
        for step in 0...nstep {
            iscale = (rmin + rdelta * Float(step) + fmax) / (hi - lo)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = max(0, min(nmax, nearestInt(iscale * (x[i] - lo))))
                laux[i] = UInt8(l)
                let w = weights[i], fl = Float(l)
                sumL += w * fl
                sumL2 += w * fl * fl
                sumXL += w * fl * x[i]
            }
            let D = sumW * sumL2 - sumL * sumL
            if D > 0 {
                var thisScale = (sumW * sumXL - sumX * sumL) / D
                var thisMin = (sumL2 * sumX - sumL * sumXL) / D
                if thisMin > 0 {
                    thisMin = 0
                    thisScale = sumXL / sumL2
                }
                var curError: Float = 0
                for i in 0..<n {
                    let diff = thisScale * Float(laux[i]) + thisMin - x[i]
                    curError += weights[i] * penalty(diff)
                }
                if curError < bestError {
                    for i in 0..<n { L[i] = laux[i] }
                    bestError = curError
                    scale = thisScale
                    lo = thisMin
                }
            }
        }
        return (scale, -lo)
    }
}

// MARK: - The 12-byte scale/min table of Q4_K and Q5_K

/// ggml's `get_scale_min_k4`: sub-block j's 6-bit scale and 6-bit min from the
/// 12-byte table at `scales`. Bytes 0-3: scales 0-3 (low 6 bits), bytes 4-7: mins
/// 0-3 (low 6 bits); bytes 8-11: low nibble scale 4+k, high nibble min 4+k; the top
/// 2 bits of bytes 0-3 / 4-7 hold the high 2 bits of scales 4-7 / mins 4-7.
@inline(__always)
func scaleMinK4(_ j: Int, _ scales: UnsafeRawPointer) -> (scale: Int32, min: Int32) {
    @inline(__always) func byte(_ k: Int) -> Int32 { Int32(scales.load(fromByteOffset: k, as: UInt8.self)) }
    if j < 4 {
        return (byte(j) & 63, byte(j + 4) & 63)
    }
    return ((byte(j + 4) & 0xF) | ((byte(j - 4) >> 6) << 4), (byte(j + 4) >> 4) | ((byte(j) >> 6) << 4))
}

/// All 8 scales and 8 mins of a 12-byte table at once, as the bytes of two UInt64s
/// (scale j = byte j of `scales`): the same values as `scaleMinK4`, computed with
/// whole-word masks instead of per-index branches (ggml's kmask trick).
@inline(__always)
func scalesMinsK4(_ table: UnsafeRawPointer) -> (scales: UInt64, mins: UInt64) {
    let u0 = table.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
    let u1 = table.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    let u2 = table.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
    let scalesLow = u0 & 0x3F3F_3F3F, minsLow = u1 & 0x3F3F_3F3F
    let scalesHigh = (u2 & 0x0F0F_0F0F) | ((u0 >> 6) & 0x0303_0303) << 4
    let minsHigh = ((u2 >> 4) & 0x0F0F_0F0F) | ((u1 >> 6) & 0x0303_0303) << 4
    return (UInt64(scalesLow) | UInt64(scalesHigh) << 32, UInt64(minsLow) | UInt64(minsHigh) << 32)
}

/// Byte j of a packed UInt64, as an Int32.
@inline(__always)
func byte(_ packed: UInt64, _ j: Int) -> Int32 { Int32(truncatingIfNeeded: (packed >> UInt64(8 * j)) & 0xFF) }

// The fast K-quant dots unpack codes from 8 bytes at a time while they are still
// one UInt64 (masks and shifts on the word keep each field within its byte), then
// widen the 8 bytes to Int32 lanes. Unpacking after widening made the compiler
// assemble the 8-byte load from several partial loads (BENCHMARKS.md, kernel notes).

/// 8 bytes at `offset` as one little-endian word: byte j = lane j.
@inline(__always)
func load8(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
    p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
}

/// The 8 bytes of `v` (each 0…255) as 8 Int32 lanes.
@inline(__always)
func widen(_ v: UInt64) -> SIMD8<Int32> {
    zeroExtend8(v)
}

/// `mask` repeated in all 8 bytes, e.g. 0x0F → 0x0F0F_0F0F_0F0F_0F0F.
@inline(__always)
func bytesOf(_ mask: UInt64) -> UInt64 { mask &* 0x0101_0101_0101_0101 }

/// Σ_g bsums[g] · min[g/2] for a Q8_K block `y` and the 8 mins of a Q4_K/Q5_K
/// block (packed as by `scalesMinsK4`): each sub-block of 32 covers two groups of 16.
@inline(__always)
func minSums(_ y: UnsafeRawPointer, _ mins: UInt64) -> Int32 {
    unsafeBitCast(minLanes(y, minPairs(mins)), to: SIMD8<Int32>.self).wrappedSum()
}

/// The 8 mins as 16 Int16 lanes, min k in lanes 2k and 2k+1: the multiplier that
/// `minLanes` pairs with the 16 group sums of a Q8_K block.
@inline(__always)
func minPairs(_ mins: UInt64) -> __m256i {
    let bytes = _mm_cvtsi64_si128(Int64(bitPattern: mins))
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(bytes, bytes))
}

/// The 8 scales of `scalesMinsK4` as Int16 words 0…7 of both 128-bit halves, for
/// `scaleLanes` to broadcast from (one vpshufb instead of a scalar extract and a
/// broadcast per scale).
@inline(__always)
func scaleWords(_ scales: UInt64) -> __m256i {
    _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(Int64(bitPattern: scales))))
}

/// Scale j of `scaleWords` in all 16 Int16 lanes.
@inline(__always)
func scaleLanes(_ words: __m256i, _ j: Int) -> __m256i {
    _mm256_shuffle_epi8(words, _mm256_set1_epi16(Int16(2 * j) | Int16(2 * j + 1) << 8))
}

/// Lane k = sub-block k's bsums[2k]·min[k] + bsums[2k+1]·min[k] (vpmaddwd: exact,
/// |2 · 16·128 · 63| fits Int32), for the Q8_K block `y` and `minPairs(mins)`.
@inline(__always)
func minLanes(_ y: UnsafeRawPointer, _ pairs: __m256i) -> __m256i {
    _mm256_madd_epi16(y.loadUnaligned(fromByteOffset: Q8_KFormat.bsumsOffset, as: __m256i.self), pairs)
}

/// The exact sums of four vectors of 8 Int32 lanes: [Σ v0, Σ v1, Σ v2, Σ v3]
/// (vphaddd twice, then the two 128-bit halves added).
@inline(__always)
func laneSums4(_ v0: __m256i, _ v1: __m256i, _ v2: __m256i, _ v3: __m256i) -> SIMD4<Int32> {
    let s = unsafeBitCast(_mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3)), to: SIMD8<Int32>.self)
    return s.lowHalf &+ s.highHalf
}

/// Four Int32 lanes to float (vcvtdq2ps).
@inline(__always)
func floats4(_ v: SIMD4<Int32>) -> SIMD4<Float> {
    unsafeBitCast(_mm_cvtepi32_ps(unsafeBitCast(v, to: __m128i.self)), to: SIMD4<Float>.self)
}

/// Eight Int32 lanes to float (vcvtdq2ps).
@inline(__always)
func floats8(_ v: __m256i) -> SIMD8<Float> {
    unsafeBitCast(_mm256_cvtepi32_ps(v), to: SIMD8<Float>.self)
}

/// The same for a SIMD8<Int32>. (Not `SIMD8<Float>(v)`: the standard library's generic
/// conversion stayed an out-of-line call, 5% of a SmolLM2 decode in `perf`.)
@inline(__always)
func floats8(_ v: SIMD8<Int32>) -> SIMD8<Float> { floats8(unsafeBitCast(v, to: __m256i.self)) }

/// The inverse of `scaleMinK4` for all 8 sub-blocks: ls, lm 6-bit values, dst 12 bytes.
func packScaleMinK4(_ ls: [UInt8], _ lm: [UInt8], _ dst: UnsafeMutableRawPointer) {
    packScaleMinK4(scale: { ls[$0] }, min: { lm[$0] }, dst)
}

/// The same with sub-block j's scale and min given by `scale(j)`, `min(j)`.
func packScaleMinK4(scale ls: (Int) -> UInt8, min lm: (Int) -> UInt8, _ dst: UnsafeMutableRawPointer) {
    for j in 0..<8 {
        if j < 4 {
            dst.storeBytes(of: ls(j), toByteOffset: j, as: UInt8.self)
            dst.storeBytes(of: lm(j), toByteOffset: j + 4, as: UInt8.self)
        } else {
            dst.storeBytes(of: (ls(j) & 0xF) | (lm(j) & 0xF) << 4, toByteOffset: j + 4, as: UInt8.self)
            let a = dst.load(fromByteOffset: j - 4, as: UInt8.self), b = dst.load(fromByteOffset: j, as: UInt8.self)
            dst.storeBytes(of: a | (ls(j) >> 4) << 6, toByteOffset: j - 4, as: UInt8.self)
            dst.storeBytes(of: b | (lm(j) >> 4) << 6, toByteOffset: j, as: UInt8.self)
        }
    }
}

/// The shared second half of the Q4_K and Q5_K reference quantizers, after the
/// per-sub-block search: `scales`, `mins` (8 each, ≥ 0 by construction) are
/// quantized to 6 bits against d = maxScale/63 and dmin = maxMin/63, written to
/// block bytes 0-15 (d, dmin, 12-byte table), and every code in L (256) is redone
/// against the quantized scale and min, clamped to 0...nmax.
func finishAffineK(x: UnsafePointer<Float>, scales: [Float], mins: [Float], nmax: Int,
                   L: UnsafeMutablePointer<UInt8>, block: UnsafeMutableRawPointer) {
    var maxScale: Float = 0, maxMin: Float = 0
    for j in 0..<8 {
        if scales[j] > maxScale { maxScale = scales[j] }
        if mins[j] > maxMin { maxMin = mins[j] }
    }
    let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
    let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
    // uint8_t ls = nearest_int(…): stored to a byte first, then capped at 63.
    let ls = (0..<8).map { min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * scales[$0]))) }
    let lm = (0..<8).map { min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mins[$0]))) }
    packScaleMinK4(ls, lm, block + 4)
    block.storeHalf(maxScale / 63, 0)
    block.storeHalf(maxMin / 63, 2)
    let d = UnsafeRawPointer(block).loadHalf(0), dmin = UnsafeRawPointer(block).loadHalf(2)
    for j in 0..<8 {
        let (sc, m) = scaleMinK4(j, UnsafeRawPointer(block + 4))
        let dj = d * Float(sc)
        if dj == 0 { continue }   // keep the search's codes, as ggml does
        let dm = dmin * Float(m)
        for i in 0..<32 {
            L[32 * j + i] = UInt8(max(0, min(nmax, nearestInt((x[32 * j + i] + dm) / dj))))
        }
    }
}

/// Q4_K/Q5_K's per-sub-block search: weights av_x + |x| with av_x the RMS of the 32
/// values. x: 256 floats, L: 256 codes out; returns 8 scales and 8 mins.
func searchAffineK(x: UnsafePointer<Float>, nmax: Int, rmin: Float, nstep: Int,
                   L: UnsafeMutablePointer<UInt8>) -> (scales: [Float], mins: [Float]) {
    var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
    var weights = [Float](repeating: 0, count: 32)
    for j in 0..<8 {
        let xs = x + 32 * j
        var sumX2: Float = 0
        for l in 0..<32 { sumX2 += xs[l] * xs[l] }
        let avX = (sumX2 / 32).squareRoot()
        for l in 0..<32 { weights[l] = avX + abs(xs[l]) }
        let r = weights.withUnsafeBufferPointer {
            makeQKX2Quants(n: 32, nmax: nmax, x: xs, weights: $0.baseAddress!, L: L + 32 * j,
                           rmin: rmin, rdelta: 0.1, nstep: nstep, useMad: false)
        }
        scales[j] = r.scale; mins[j] = r.theMin
    }
    return (scales, mins)
}

// MARK: - Fast-dot helpers

/// Σ over a Q8_K block's 8 lanes of float partial sums, in lane order — the way
/// ggml's generic K-quant dots finish (`for l in 0..<8: sumf += sums[l]`).
@inline(__always)
func addLanes(_ sumf: Float, _ sums: SIMD8<Float>) -> Float {
    var s = sumf
    for l in 0..<8 { s += sums[l] }
    return s
}
