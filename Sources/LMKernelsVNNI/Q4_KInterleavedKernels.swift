import _Builtin_intrinsics.intel
import CPrefetch
/// Q4_K weights interleaved sixteen rows at a time (LMEngine's `Q4_Kx16` makes the copy;
/// the layout is described there), dotted against Q8_K activations with 512-bit vpdpbusd:
/// Int32 lane r is row r, one broadcast of four activation codes meets sixteen rows, and
/// nothing is added across lanes. The sums are llama.cpp's (`Q4_KFormat.dotReference`):
/// per super-block (gemv) or per 64 elements (`perSixtyFour`, its four-token gemm) the
/// exact integers Σ scale·code·a and Σ min·(sub-block sum of a), each into its float
/// chain acc = fma(Σ, d_w·d_a, acc); the result is acc − accMin.
public enum Q4_KInterleavedKernels {
    // Byte offsets inside one group's super-block (16 rows × 256 elements).
    static let dOffset = 0, dminOffset = 32, scalesOffset = 64, minsOffset = 192, codesOffset = 320
    public static let blockBytes = 2368
    // The Q8_K activation block: d (Float), qs[256], bsums[16].
    static let activationBytes = 292, activationCodes = 4

    /// For each activation row t and super-block b, at 16·(t·blocks + b): the eight
    /// sub-block sums of its codes as Int16 (bsums added in pairs), for `minSums`.
    public static func writeSubBlockSums(_ a: UnsafeRawPointer, rowBytes: Int, cols: Int, n: Int, into dst: UnsafeMutableRawPointer) {
        let blocks = cols / 256
        for t in 0..<n {
            for b in 0..<blocks {
                let bsums = a + t * rowBytes + b * activationBytes + 260
                let pairs = _mm_hadd_epi16(bsums.loadUnaligned(as: __m128i.self), bsums.loadUnaligned(fromByteOffset: 16, as: __m128i.self))
                dst.storeBytes(of: pairs, toByteOffset: 16 * (t * blocks + b), as: __m128i.self)
            }
        }
    }

    /// The 16 rows' fp16 at `offset` as floats.
    @inline(__always) static func halves16(_ x: UnsafeRawPointer, _ offset: Int) -> SIMD16<Float> {
        _mm512_cvtph_ps(x.loadUnaligned(fromByteOffset: offset, as: __m256i.self))
    }

    /// Lane r = Σ_j u_j·c_j over one 32-byte chunk c's low (sub-block 2c) or high (2c+1)
    /// nibbles for one token: eight vpdpbusd, one per 4-byte piece.
    @inline(__always)
    static func chunkSums(_ x: UnsafeRawPointer, _ c: Int, _ y: UnsafeRawPointer) -> (low: __m512i, high: __m512i) {
        let mask = _mm512_set1_epi8(0x0F)
        var low = _mm512_setzero_si512(), high = _mm512_setzero_si512()
        for p in 0..<8 {
            let v = x.loadUnaligned(fromByteOffset: codesOffset + (8 * c + p) * 64, as: __m512i.self)
            let a0 = _mm512_set1_epi32(y.loadUnaligned(fromByteOffset: activationCodes + 64 * c + 4 * p, as: Int32.self))
            let a1 = _mm512_set1_epi32(y.loadUnaligned(fromByteOffset: activationCodes + 64 * c + 32 + 4 * p, as: Int32.self))
            low = _mm512_dpbusd_epi32(low, _mm512_and_si512(v, mask), a0)
            high = _mm512_dpbusd_epi32(high, _mm512_and_si512(_mm512_srli_epi16(v, 4), mask), a1)
        }
        return (low, high)
    }

    /// Lane r = row r's scale of sub-block s, as Int32.
    @inline(__always) static func scales(_ x: UnsafeRawPointer, _ s: Int) -> __m512i {
        _mm512_cvtepu8_epi32(x.loadUnaligned(fromByteOffset: scalesOffset + 16 * s, as: __m128i.self))
    }

    /// Lane r = min_{2k}·S_{2k} + min_{2k+1}·S_{2k+1} for row r, S the token's sub-block sums.
    @inline(__always) static func minSums(_ x: UnsafeRawPointer, _ k: Int, _ sums: UnsafeRawPointer) -> __m512i {
        let mins = _mm512_cvtepu8_epi16(x.loadUnaligned(fromByteOffset: minsOffset + 32 * k, as: __m256i.self))
        return _mm512_madd_epi16(mins, _mm512_set1_epi32(sums.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self)))
    }

    /// Σ over chunk c (64 elements) of scale·u·a, lane r for row r.
    @inline(__always) static func chunkTotal(_ x: UnsafeRawPointer, _ c: Int, _ y: UnsafeRawPointer) -> __m512i {
        let (low, high) = chunkSums(x, c, y)
        return _mm512_add_epi32(_mm512_mullo_epi32(low, scales(x, 2 * c)), _mm512_mullo_epi32(high, scales(x, 2 * c + 1)))
    }

    /// One token against one group of sixteen rows (`x`, `blocks` super-blocks): lane r = the
    /// dot of row r with activation row `a` (Q8_K), whose sub-block sums are at `sums`.
    @inline(__always)
    static func dotRows16(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, sums: UnsafeRawPointer, blocks: Int, perSixtyFour: Bool) -> SIMD16<Float> {
        var acc = SIMD16<Float>(), accMin = SIMD16<Float>()
        for b in 0..<blocks {
            let xb = x + b * blockBytes, y = a + b * activationBytes, s = sums + 16 * b
            let da = SIMD16<Float>(repeating: y.loadUnaligned(as: Float.self))
            prefetch(xb + prefetchAhead, bytes: blockBytes)
            let d = halves16(xb, dOffset) * da, dmin = halves16(xb, dminOffset) * da
            if perSixtyFour {
                for c in 0..<4 {
                    acc = acc.addingProduct(_mm512_cvtepi32_ps(chunkTotal(xb, c, y)), d)
                    accMin = accMin.addingProduct(_mm512_cvtepi32_ps(minSums(xb, c, s)), dmin)
                }
            } else {
                var total = chunkTotal(xb, 0, y), mins = minSums(xb, 0, s)
                for c in 1..<4 {
                    total = _mm512_add_epi32(total, chunkTotal(xb, c, y))
                    mins = _mm512_add_epi32(mins, minSums(xb, c, s))
                }
                acc = acc.addingProduct(_mm512_cvtepi32_ps(total), d)
                accMin = accMin.addingProduct(_mm512_cvtepi32_ps(mins), dmin)
            }
        }
        return acc - accMin
    }

    /// `dotRows16` for one group and token t's activation row `a + t·rowBytes` (sums at
    /// `sums + t·sumBytes`), written to out[0..<16].
    public static func dotRows16(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, sums: UnsafeRawPointer, blocks: Int,
                                 perSixtyFour: Bool, out: UnsafeMutablePointer<Float>) {
        let v = perSixtyFour ? dotRows16(x, a, sums: sums, blocks: blocks, perSixtyFour: true)
                             : dotRows16(x, a, sums: sums, blocks: blocks, perSixtyFour: false)
        UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// Four tokens (activation rows `rowBytes` apart, their sums `sumBytes` apart) against
    /// one group: token k's sixteen outputs to out + k·outStride. Each piece of codes is
    /// loaded and unpacked once for the four tokens' vpdpbusd.
    public static func dotRows16Tokens4(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, rowBytes: Int, sums: UnsafeRawPointer, sumBytes: Int,
                                        blocks: Int, perSixtyFour: Bool, out: UnsafeMutablePointer<Float>, outStride: Int) {
        if perSixtyFour {
            tokens4(x, a, rowBytes: rowBytes, sums: sums, sumBytes: sumBytes, blocks: blocks, perSixtyFour: true, out: out, outStride: outStride)
        } else {
            tokens4(x, a, rowBytes: rowBytes, sums: sums, sumBytes: sumBytes, blocks: blocks, perSixtyFour: false, out: out, outStride: outStride)
        }
    }

    /// Four accumulators of Int32, one per token.
    struct Four { var t0, t1, t2, t3: __m512i }

    @inline(__always)
    static func tokens4(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, rowBytes rb: Int, sums: UnsafeRawPointer, sumBytes sb: Int,
                        blocks: Int, perSixtyFour: Bool, out: UnsafeMutablePointer<Float>, outStride: Int) {
        var acc0 = SIMD16<Float>(), acc1 = acc0, acc2 = acc0, acc3 = acc0
        var min0 = SIMD16<Float>(), min1 = min0, min2 = min0, min3 = min0
        let mask = _mm512_set1_epi8(0x0F)
        for b in 0..<blocks {
            let xb = x + b * blockBytes, y = a + b * activationBytes, s = sums + 16 * b
            let dw = halves16(xb, dOffset), dminw = halves16(xb, dminOffset)
            @inline(__always) func da(_ k: Int) -> SIMD16<Float> { SIMD16<Float>(repeating: (y + k * rb).loadUnaligned(as: Float.self)) }
            let da0 = da(0), da1 = da(1), da2 = da(2), da3 = da(3)
            let zero = _mm512_setzero_si512()
            var total = Four(t0: zero, t1: zero, t2: zero, t3: zero), mins = total
            for c in 0..<4 {
                var low = Four(t0: zero, t1: zero, t2: zero, t3: zero), high = low
                for p in 0..<8 {
                    let v = xb.loadUnaligned(fromByteOffset: codesOffset + (8 * c + p) * 64, as: __m512i.self)
                    let lo = _mm512_and_si512(v, mask), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), mask)
                    let o0 = activationCodes + 64 * c + 4 * p, o1 = o0 + 32
                    @inline(__always) func code(_ k: Int, _ o: Int) -> __m512i { _mm512_set1_epi32((y + k * rb).loadUnaligned(fromByteOffset: o, as: Int32.self)) }
                    low.t0 = _mm512_dpbusd_epi32(low.t0, lo, code(0, o0)); high.t0 = _mm512_dpbusd_epi32(high.t0, hi, code(0, o1))
                    low.t1 = _mm512_dpbusd_epi32(low.t1, lo, code(1, o0)); high.t1 = _mm512_dpbusd_epi32(high.t1, hi, code(1, o1))
                    low.t2 = _mm512_dpbusd_epi32(low.t2, lo, code(2, o0)); high.t2 = _mm512_dpbusd_epi32(high.t2, hi, code(2, o1))
                    low.t3 = _mm512_dpbusd_epi32(low.t3, lo, code(3, o0)); high.t3 = _mm512_dpbusd_epi32(high.t3, hi, code(3, o1))
                }
                let sLow = scales(xb, 2 * c), sHigh = scales(xb, 2 * c + 1)
                @inline(__always) func scaled(_ l: __m512i, _ h: __m512i) -> __m512i {
                    _mm512_add_epi32(_mm512_mullo_epi32(l, sLow), _mm512_mullo_epi32(h, sHigh))
                }
                let chunk = Four(t0: scaled(low.t0, high.t0), t1: scaled(low.t1, high.t1), t2: scaled(low.t2, high.t2), t3: scaled(low.t3, high.t3))
                let m = Four(t0: minSums(xb, c, s), t1: minSums(xb, c, s + sb), t2: minSums(xb, c, s + 2 * sb), t3: minSums(xb, c, s + 3 * sb))
                if perSixtyFour {
                    acc0 = acc0.addingProduct(_mm512_cvtepi32_ps(chunk.t0), dw * da0); min0 = min0.addingProduct(_mm512_cvtepi32_ps(m.t0), dminw * da0)
                    acc1 = acc1.addingProduct(_mm512_cvtepi32_ps(chunk.t1), dw * da1); min1 = min1.addingProduct(_mm512_cvtepi32_ps(m.t1), dminw * da1)
                    acc2 = acc2.addingProduct(_mm512_cvtepi32_ps(chunk.t2), dw * da2); min2 = min2.addingProduct(_mm512_cvtepi32_ps(m.t2), dminw * da2)
                    acc3 = acc3.addingProduct(_mm512_cvtepi32_ps(chunk.t3), dw * da3); min3 = min3.addingProduct(_mm512_cvtepi32_ps(m.t3), dminw * da3)
                } else {
                    total = Four(t0: _mm512_add_epi32(total.t0, chunk.t0), t1: _mm512_add_epi32(total.t1, chunk.t1),
                                 t2: _mm512_add_epi32(total.t2, chunk.t2), t3: _mm512_add_epi32(total.t3, chunk.t3))
                    mins = Four(t0: _mm512_add_epi32(mins.t0, m.t0), t1: _mm512_add_epi32(mins.t1, m.t1),
                                t2: _mm512_add_epi32(mins.t2, m.t2), t3: _mm512_add_epi32(mins.t3, m.t3))
                }
            }
            if !perSixtyFour {
                acc0 = acc0.addingProduct(_mm512_cvtepi32_ps(total.t0), dw * da0); min0 = min0.addingProduct(_mm512_cvtepi32_ps(mins.t0), dminw * da0)
                acc1 = acc1.addingProduct(_mm512_cvtepi32_ps(total.t1), dw * da1); min1 = min1.addingProduct(_mm512_cvtepi32_ps(mins.t1), dminw * da1)
                acc2 = acc2.addingProduct(_mm512_cvtepi32_ps(total.t2), dw * da2); min2 = min2.addingProduct(_mm512_cvtepi32_ps(mins.t2), dminw * da2)
                acc3 = acc3.addingProduct(_mm512_cvtepi32_ps(total.t3), dw * da3); min3 = min3.addingProduct(_mm512_cvtepi32_ps(mins.t3), dminw * da3)
            }
        }
        @inline(__always) func store(_ v: SIMD16<Float>, _ k: Int) {
            UnsafeMutableRawPointer(out + k * outStride).storeBytes(of: v, as: SIMD16<Float>.self)
        }
        store(acc0 - min0, 0); store(acc1 - min1, 1); store(acc2 - min2, 2); store(acc3 - min3, 3)
    }
}
