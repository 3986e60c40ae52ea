import _Builtin_intrinsics.intel
/// Q5_K weights interleaved sixteen rows at a time (LMEngine's `Q5_Kx16` makes the copy
/// and describes the layout), dotted against Q8_K activations with 512-bit vectors whose
/// Int32 lane r is row r: one broadcast of four activation codes meets sixteen rows.
///
/// The sums are LMEngine's `Q5_KFormat` orders, bit for bit:
/// - `dotRows16` (decode, and prefills of fewer than 8 rows): per super-block the eight
///   exact lanes L_m of `dotReference` (lane m: elements 4m…4m+3 of each sub-block of 32,
///   times the sub-block's scale), each into its float chain acc_m = fma(d_a·d_w, L_m,
///   acc_m), and the mins' exact Σ min·(sub-block sum of a) into summs = fma(−d_a·dmin, Σ,
///   summs); at the end `hsum8`'s tree across the eight chains, plus summs.
/// - `dotRows16Tiled` (prefills of 8 or more rows): per super-block the exact s1 = Σ_m L_m
///   and s2 = Σ min·sums, acc = fma(fma(−dmin, s2, s1·d_w), d_a, acc).
///
/// A code is 0…31 (4 low bits from qs, the fifth from qh), so vpmaddubsw's pairs (at most
/// 2·31·128) fit Int16, and vpdpwssd multiplies each pair by the row's scale (the same
/// Int16 in both words) and adds it into the Int32 lane.
public enum Q5_KInterleavedKernels {
    /// Bytes of one super-block (256 elements) of sixteen rows.
    public static let blockBytes = 2880
    static let dOffset = 2560, dminOffset = 2592, scalesOffset = 2624, minsOffset = 2752
    // The Q8_K activation block: d (Float), qs[256], bsums[16].
    static let activationBytes = 292, activationCodes = 4

    /// Lane r = row r's scale of sub-block s, in both Int16 words.
    @inline(__always) static func scales(_ x: UnsafeRawPointer, _ s: Int) -> __m512i {
        let v = _mm512_cvtepu8_epi32(x.loadUnaligned(fromByteOffset: scalesOffset + 16 * s, as: __m128i.self))
        return _mm512_or_si512(v, _mm512_slli_epi32(v, 16))
    }

    /// Lane r = min_{2k}·S_{2k} + min_{2k+1}·S_{2k+1} for row r, S the token's sub-block
    /// sums (`Q4_KInterleavedKernels.writeSubBlockSums`).
    @inline(__always) static func minSums(_ x: UnsafeRawPointer, _ k: Int, _ sums: UnsafeRawPointer) -> __m512i {
        let mins = _mm512_cvtepu8_epi16(x.loadUnaligned(fromByteOffset: minsOffset + 32 * k, as: __m256i.self))
        return _mm512_madd_epi16(mins, _mm512_set1_epi32(sums.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self)))
    }

    /// The exact Σ min·S over the super-block, lane r for row r.
    @inline(__always) static func minTotal(_ x: UnsafeRawPointer, _ sums: UnsafeRawPointer) -> __m512i {
        _mm512_add_epi32(_mm512_add_epi32(minSums(x, 0, sums), minSums(x, 1, sums)),
                         _mm512_add_epi32(minSums(x, 2, sums), minSums(x, 3, sums)))
    }

    /// Piece m's codes of sub-blocks 2c (low) and 2c + 1 (high), unsigned 0…31, lane r = row
    /// r's elements 32s + 4m…+3. `qh`: piece m's fifth bits (bit s of each byte).
    @inline(__always)
    static func codes(_ x: UnsafeRawPointer, _ m: Int, _ c: Int, _ qh: __m512i) -> (low: __m512i, high: __m512i) {
        let q = x.loadUnaligned(fromByteOffset: 320 * m + 64 + 64 * c, as: __m512i.self)
        let nibble = _mm512_set1_epi8(0x0F), fifth = _mm512_set1_epi8(0x10)
        // bit s of each qh byte to bit 4 (16-bit shifts: what crosses bytes is masked off)
        @inline(__always) func bit(_ s: Int) -> __m512i {
            let moved = s < 4 ? _mm512_slli_epi16(qh, UInt32(4 - s)) : s == 4 ? qh : _mm512_srli_epi16(qh, UInt32(s - 4))
            return _mm512_and_si512(moved, fifth)
        }
        return (_mm512_or_si512(_mm512_and_si512(q, nibble), bit(2 * c)),
                _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(q, 4), nibble), bit(2 * c + 1)))
    }

    /// `sum` + Σ over the eight sub-blocks s of scale_s·Σ u·a over piece m, for one token
    /// (activation block `y`): lane m's part of the super-block. `sc`: the eight sub-blocks' scales.
    @inline(__always)
    static func pieceSum(_ sum: __m512i, _ x: UnsafeRawPointer, _ m: Int, _ y: UnsafeRawPointer, _ sc: Scales8) -> __m512i {
        let qh = x.loadUnaligned(fromByteOffset: 320 * m, as: __m512i.self)
        var total = sum
        for c in 0..<4 {
            let (low, high) = codes(x, m, c, qh)
            total = add(total, low, 2 * c, m, y, c == 0 ? sc.s0 : c == 1 ? sc.s2 : c == 2 ? sc.s4 : sc.s6)
            total = add(total, high, 2 * c + 1, m, y, c == 0 ? sc.s1 : c == 1 ? sc.s3 : c == 2 ? sc.s5 : sc.s7)
        }
        return total
    }

    /// s + scale·Σ u·a for sub-block `subBlock`, piece m.
    @inline(__always)
    static func add(_ s: __m512i, _ u: __m512i, _ subBlock: Int, _ m: Int, _ y: UnsafeRawPointer, _ scale: __m512i) -> __m512i {
        let a = _mm512_set1_epi32(y.loadUnaligned(fromByteOffset: activationCodes + 32 * subBlock + 4 * m, as: Int32.self))
        return _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(u, a), scale)
    }

    /// The eight sub-blocks' scales of one super-block (`scales`).
    struct Scales8 {
        let s0, s1, s2, s3, s4, s5, s6, s7: __m512i
        @inline(__always) init(_ x: UnsafeRawPointer) {
            s0 = scales(x, 0); s1 = scales(x, 1); s2 = scales(x, 2); s3 = scales(x, 3)
            s4 = scales(x, 4); s5 = scales(x, 5); s6 = scales(x, 6); s7 = scales(x, 7)
        }
    }

    @inline(__always) static func halves16(_ x: UnsafeRawPointer, _ offset: Int) -> SIMD16<Float> {
        _mm512_cvtph_ps(x.loadUnaligned(fromByteOffset: offset, as: __m256i.self))
    }

    /// The lane order: out[r] = row r of the group at `x` (`blocks` super-blocks) dotted
    /// with activation row `a`, whose sub-block sums are at `sums` (16 bytes a super-block).
    public static func dotRows16(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, sums: UnsafeRawPointer, blocks: Int,
                                 out: UnsafeMutablePointer<Float>) {
        var c0 = SIMD16<Float>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, summs = c0
        for b in 0..<blocks {
            let xb = x + b * blockBytes, y = a + b * activationBytes
            prefetch(xb + prefetchAhead, bytes: blockBytes)
            let da = SIMD16<Float>(repeating: y.loadUnaligned(as: Float.self)), d = halves16(xb, dOffset) * da
            let sc = Scales8(xb), zero = _mm512_setzero_si512()
            @inline(__always) func lane(_ m: Int) -> SIMD16<Float> { _mm512_cvtepi32_ps(pieceSum(zero, xb, m, y, sc)) }
            c0 = c0.addingProduct(d, lane(0)); c1 = c1.addingProduct(d, lane(1))
            c2 = c2.addingProduct(d, lane(2)); c3 = c3.addingProduct(d, lane(3))
            c4 = c4.addingProduct(d, lane(4)); c5 = c5.addingProduct(d, lane(5))
            c6 = c6.addingProduct(d, lane(6)); c7 = c7.addingProduct(d, lane(7))
            summs = summs.addingProduct(-da * halves16(xb, dminOffset), _mm512_cvtepi32_ps(minTotal(xb, sums + 16 * b)))
        }
        let f0 = c0 + c4, f1 = c1 + c5, f2 = c2 + c6, f3 = c3 + c7   // hsum8, lane by lane
        UnsafeMutableRawPointer(out).storeBytes(of: ((f0 + f2) + (f1 + f3)) + summs, as: SIMD16<Float>.self)
    }

    /// The tiled order for `tokens` (1…4) activation rows `rowBytes` apart (their sums
    /// `sumBytes` apart), each piece's codes unpacked once for all: out + t·outStride gets
    /// token t's sixteen.
    public static func dotRows16Tiled(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, rowBytes: Int, sums: UnsafeRawPointer, sumBytes: Int,
                                      tokens: Int, blocks: Int, out: UnsafeMutablePointer<Float>, outStride: Int) {
        // One specialized body per count (the count decides which accumulators exist).
        switch tokens {
        case 1: tiled(x, a, rowBytes: rowBytes, sums: sums, sumBytes: sumBytes, tokens: 1, blocks: blocks, out: out, outStride: outStride)
        case 2: tiled(x, a, rowBytes: rowBytes, sums: sums, sumBytes: sumBytes, tokens: 2, blocks: blocks, out: out, outStride: outStride)
        case 3: tiled(x, a, rowBytes: rowBytes, sums: sums, sumBytes: sumBytes, tokens: 3, blocks: blocks, out: out, outStride: outStride)
        default: tiled(x, a, rowBytes: rowBytes, sums: sums, sumBytes: sumBytes, tokens: 4, blocks: blocks, out: out, outStride: outStride)
        }
    }

    @inline(__always)
    static func tiled(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, rowBytes: Int, sums: UnsafeRawPointer, sumBytes: Int,
                      tokens: Int, blocks: Int, out: UnsafeMutablePointer<Float>, outStride: Int) {
        var acc0 = SIMD16<Float>(), acc1 = acc0, acc2 = acc0, acc3 = acc0
        for b in 0..<blocks {
            let xb = x + b * blockBytes, y0 = a + b * activationBytes, y1 = y0 + rowBytes, y2 = y1 + rowBytes, y3 = y2 + rowBytes
            let sc = Scales8(xb)
            var t0 = _mm512_setzero_si512(), t1 = t0, t2 = t0, t3 = t0
            for m in 0..<8 {
                let qh = xb.loadUnaligned(fromByteOffset: 320 * m, as: __m512i.self)
                for c in 0..<4 {
                    let (low, high) = codes(xb, m, c, qh)
                    let sLow = c == 0 ? sc.s0 : c == 1 ? sc.s2 : c == 2 ? sc.s4 : sc.s6
                    let sHigh = c == 0 ? sc.s1 : c == 1 ? sc.s3 : c == 2 ? sc.s5 : sc.s7
                    t0 = add(add(t0, low, 2 * c, m, y0, sLow), high, 2 * c + 1, m, y0, sHigh)
                    if tokens > 1 { t1 = add(add(t1, low, 2 * c, m, y1, sLow), high, 2 * c + 1, m, y1, sHigh) }
                    if tokens > 2 { t2 = add(add(t2, low, 2 * c, m, y2, sLow), high, 2 * c + 1, m, y2, sHigh) }
                    if tokens > 3 { t3 = add(add(t3, low, 2 * c, m, y3, sLow), high, 2 * c + 1, m, y3, sHigh) }
                }
            }
            let dw = halves16(xb, dOffset), dmin = -halves16(xb, dminOffset), s = sums + 16 * b
            @inline(__always) func step(_ acc: SIMD16<Float>, _ t: __m512i, _ k: Int, _ y: UnsafeRawPointer) -> SIMD16<Float> {
                let inner = (_mm512_cvtepi32_ps(t) * dw).addingProduct(dmin, _mm512_cvtepi32_ps(minTotal(xb, s + k * sumBytes)))
                return acc.addingProduct(inner, SIMD16<Float>(repeating: y.loadUnaligned(as: Float.self)))
            }
            acc0 = step(acc0, t0, 0, y0)
            if tokens > 1 { acc1 = step(acc1, t1, 1, y1) }
            if tokens > 2 { acc2 = step(acc2, t2, 2, y2) }
            if tokens > 3 { acc3 = step(acc3, t3, 3, y3) }
        }
        @inline(__always) func store(_ v: SIMD16<Float>, _ t: Int) { UnsafeMutableRawPointer(out + t * outStride).storeBytes(of: v, as: SIMD16<Float>.self) }
        store(acc0, 0)
        if tokens > 1 { store(acc1, 1) }
        if tokens > 2 { store(acc2, 2) }
        if tokens > 3 { store(acc3, 3) }
    }
}
