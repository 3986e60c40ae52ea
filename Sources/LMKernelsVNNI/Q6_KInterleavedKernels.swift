import _Builtin_intrinsics.intel
/// Q6_K weights interleaved sixteen rows at a time (LMEngine's `Q6_Kx16` makes the copy
/// and describes the layout), dotted against Q8_K activations with 512-bit vectors whose
/// Int32 lane r is row r: one broadcast of four activation codes meets sixteen rows.
///
/// The sums are LMEngine's `Q6_KFormat` orders, bit for bit:
/// - `dotRows16` (decode, and prefills of fewer than 8 rows): per super-block the eight
///   exact lanes L_m of `dotReference` (lane m: elements 4m…4m+3 of each 32-element chunk,
///   each times its sub-block's scale, less 32·Σ scale·bsum of sub-blocks 2m, 2m+1), each
///   into its own float chain acc_m = fma(d_a·d_w, L_m, acc_m); at the end `hsum8`'s tree
///   across the eight chains.
/// - `dotRows16Tiled*` (prefills of 8 or more rows): per super-block the exact total
///   Σ_m L_m, acc = fma(total·d_w, d_a, acc).
///
/// A code is 0…63 (its 4 low bits from ql, 2 high from qh), so vpmaddubsw's pairs (at
/// most 2·63·128) fit Int16, and vpdpwssd multiplies each pair by the row's scale (the
/// same Int16 in both words) and adds it into the Int32 lane.
public enum Q6_KInterleavedKernels {
    /// Bytes of one super-block (256 elements) of sixteen rows.
    public static let blockBytes = 3360
    static let scalesOffset = 3072, dOffset = 3328
    // The Q8_K activation block: d (Float), qs[256], bsums[16] (Int16).
    static let activationBytes = 292, activationCodes = 4, activationSums = 260

    /// vpshufb control giving every Int32 lane its Int16 word `word` (0 or 1) in both words.
    @inline(__always) static func duplicateWord(_ word: Int32) -> __m512i {
        @inline(__always) func lane(_ b: Int32) -> Int32 { let two = (b + 2 * word) | (b + 2 * word + 1) << 8; return two | two << 16 }
        let l = SIMD4<Int32>(lane(0), lane(4), lane(8), lane(12))
        return unsafeBitCast(SIMD16<Int32>(lowHalf: SIMD8(lowHalf: l, highHalf: l), highHalf: SIMD8(lowHalf: l, highHalf: l)), to: __m512i.self)
    }

    /// Lane r = (scale 2p, scale 2p+1) of row r as two Int16 words.
    @inline(__always) static func scalePairs(_ x: UnsafeRawPointer, _ p: Int) -> __m512i {
        _mm512_cvtepi8_epi16(x.loadUnaligned(fromByteOffset: scalesOffset + 32 * p, as: __m256i.self))
    }

    /// Lane r = row r's scale of sub-block 2c + upper, in both Int16 words.
    @inline(__always) static func subBlockScales(_ x: UnsafeRawPointer, _ c: Int, upper: Bool) -> __m512i {
        _mm512_shuffle_epi8(scalePairs(x, c), duplicateWord(upper ? 1 : 0))
    }

    /// Group m of half h (elements 128h + 32k + 4m…+3, k = 0…3) for sixteen rows: the four
    /// chunks' codes, unsigned 0…63, lane r = row r's four.
    @inline(__always)
    static func codes(_ x: UnsafeRawPointer, _ h: Int, _ m: Int) -> (__m512i, __m512i, __m512i, __m512i) {
        let group = x + 192 * (8 * h + m)
        let ql0 = group.loadUnaligned(as: __m512i.self), ql1 = group.loadUnaligned(fromByteOffset: 64, as: __m512i.self)
        let qh = group.loadUnaligned(fromByteOffset: 128, as: __m512i.self)
        let low = _mm512_set1_epi8(0x0F), high = _mm512_set1_epi8(0x30)
        // chunk k's two high bits are bits 2k, 2k+1 of qh: moved to bits 4, 5
        @inline(__always) func code(_ nibbles: __m512i, _ moved: __m512i) -> __m512i {
            _mm512_or_si512(_mm512_and_si512(nibbles, low), _mm512_and_si512(moved, high))
        }
        return (code(ql0, _mm512_slli_epi16(qh, 4)), code(ql1, _mm512_slli_epi16(qh, 2)),
                code(_mm512_srli_epi16(ql0, 4), qh), code(_mm512_srli_epi16(ql1, 4), _mm512_srli_epi16(qh, 2)))
    }

    /// Σ over the four chunks of half h of scale·Σ u·a for group m, added onto `sum`:
    /// the unsigned part of lane m for one token (activation block `y`).
    @inline(__always)
    static func groupSum(_ sum: __m512i, _ x: UnsafeRawPointer, _ h: Int, _ m: Int,
                         _ q: (__m512i, __m512i, __m512i, __m512i), _ y: UnsafeRawPointer) -> __m512i {
        @inline(__always) func add(_ s: __m512i, _ k: Int, _ u: __m512i) -> __m512i {
            let c = 4 * h + k
            let a = _mm512_set1_epi32(y.loadUnaligned(fromByteOffset: activationCodes + 32 * c + 4 * m, as: Int32.self))
            return _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(u, a), subBlockScales(x, c, upper: m >= 4))
        }
        return add(add(add(add(sum, 0, q.0), 1, q.1), 2, q.2), 3, q.3)
    }

    /// 32·(scale 2m·bsum 2m + scale 2m+1·bsum 2m+1), lane r for row r: what the codes' +32 added to lane m.
    @inline(__always) static func offset(_ x: UnsafeRawPointer, _ m: Int, _ y: UnsafeRawPointer) -> __m512i {
        let sums = _mm512_set1_epi32(y.loadUnaligned(fromByteOffset: activationSums + 4 * m, as: Int32.self))
        return _mm512_slli_epi32(_mm512_dpwssd_epi32(_mm512_setzero_si512(), scalePairs(x, m), sums), 5)
    }

    /// The eight lanes' float chains of one token.
    struct Chains {
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
        var c4 = SIMD16<Float>(), c5 = SIMD16<Float>(), c6 = SIMD16<Float>(), c7 = SIMD16<Float>()

        /// Super-block `x` against activation block `y`: chain m += d·L_m.
        @inline(__always) mutating func add(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer) {
            var l0 = _mm512_setzero_si512(), l1 = l0, l2 = l0, l3 = l0, l4 = l0, l5 = l0, l6 = l0, l7 = l0
            for h in 0..<2 {
                l0 = groupSum(l0, x, h, 0, codes(x, h, 0), y); l1 = groupSum(l1, x, h, 1, codes(x, h, 1), y)
                l2 = groupSum(l2, x, h, 2, codes(x, h, 2), y); l3 = groupSum(l3, x, h, 3, codes(x, h, 3), y)
                l4 = groupSum(l4, x, h, 4, codes(x, h, 4), y); l5 = groupSum(l5, x, h, 5, codes(x, h, 5), y)
                l6 = groupSum(l6, x, h, 6, codes(x, h, 6), y); l7 = groupSum(l7, x, h, 7, codes(x, h, 7), y)
            }
            let d = _mm512_cvtph_ps(x.loadUnaligned(fromByteOffset: dOffset, as: __m256i.self))
                * SIMD16<Float>(repeating: y.loadUnaligned(as: Float.self))
            @inline(__always) func lane(_ l: __m512i, _ m: Int) -> SIMD16<Float> { _mm512_cvtepi32_ps(_mm512_sub_epi32(l, offset(x, m, y))) }
            c0 = c0.addingProduct(d, lane(l0, 0)); c1 = c1.addingProduct(d, lane(l1, 1))
            c2 = c2.addingProduct(d, lane(l2, 2)); c3 = c3.addingProduct(d, lane(l3, 3))
            c4 = c4.addingProduct(d, lane(l4, 4)); c5 = c5.addingProduct(d, lane(l5, 5))
            c6 = c6.addingProduct(d, lane(l6, 6)); c7 = c7.addingProduct(d, lane(l7, 7))
        }

        /// `hsum8` lane by lane: (c0+c4 + c2+c6) + (c1+c5 + c3+c7).
        @inline(__always) var total: SIMD16<Float> {
            let f0 = c0 + c4, f1 = c1 + c5, f2 = c2 + c6, f3 = c3 + c7
            return (f0 + f2) + (f1 + f3)
        }
    }

    /// The lane order (`dotReference`): out[r] = row r of the group at `x` (`blocks`
    /// super-blocks) dotted with activation row `a`.
    @inline(__always)
    public static func dotRows16(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int, out: UnsafeMutablePointer<Float>) {
        var chains = Chains()
        for b in 0..<blocks {
            prefetch(x + b * blockBytes + prefetchAhead, bytes: blockBytes)
            chains.add(x + b * blockBytes, a + b * activationBytes)
        }
        UnsafeMutableRawPointer(out).storeBytes(of: chains.total, as: SIMD16<Float>.self)
    }

    /// The tiled order (`dotTiledReference`) for `tokens` (1…4) activation rows `rowBytes`
    /// apart, each group's codes unpacked once for all of them: out + t·outStride gets token t's sixteen.
    public static func dotRows16Tiled(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, rowBytes: Int, tokens: Int, blocks: Int,
                                      out: UnsafeMutablePointer<Float>, outStride: Int) {
        // One specialized body per count (the count decides which accumulators exist).
        switch tokens {
        case 1: tiled(x, a, rowBytes: rowBytes, tokens: 1, blocks: blocks, out: out, outStride: outStride)
        case 2: tiled(x, a, rowBytes: rowBytes, tokens: 2, blocks: blocks, out: out, outStride: outStride)
        case 3: tiled(x, a, rowBytes: rowBytes, tokens: 3, blocks: blocks, out: out, outStride: outStride)
        default: tiled(x, a, rowBytes: rowBytes, tokens: 4, blocks: blocks, out: out, outStride: outStride)
        }
    }

    @inline(__always)
    static func tiled(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, rowBytes: Int, tokens: Int, blocks: Int,
                      out: UnsafeMutablePointer<Float>, outStride: Int) {
        var acc0 = SIMD16<Float>(), acc1 = acc0, acc2 = acc0, acc3 = acc0
        for b in 0..<blocks {
            let xb = x + b * blockBytes, y0 = a + b * activationBytes, y1 = y0 + rowBytes, y2 = y1 + rowBytes, y3 = y2 + rowBytes
            var t0 = _mm512_setzero_si512(), t1 = t0, t2 = t0, t3 = t0
            var o0 = _mm512_setzero_si512(), o1 = o0, o2 = o0, o3 = o0
            for h in 0..<2 {
                for m in 0..<8 {
                    let q = codes(xb, h, m)
                    t0 = groupSum(t0, xb, h, m, q, y0)
                    if tokens > 1 { t1 = groupSum(t1, xb, h, m, q, y1) }
                    if tokens > 2 { t2 = groupSum(t2, xb, h, m, q, y2) }
                    if tokens > 3 { t3 = groupSum(t3, xb, h, m, q, y3) }
                }
            }
            for m in 0..<8 {
                o0 = _mm512_add_epi32(o0, offset(xb, m, y0))
                if tokens > 1 { o1 = _mm512_add_epi32(o1, offset(xb, m, y1)) }
                if tokens > 2 { o2 = _mm512_add_epi32(o2, offset(xb, m, y2)) }
                if tokens > 3 { o3 = _mm512_add_epi32(o3, offset(xb, m, y3)) }
            }
            let dw = _mm512_cvtph_ps(xb.loadUnaligned(fromByteOffset: dOffset, as: __m256i.self))
            @inline(__always) func step(_ acc: SIMD16<Float>, _ t: __m512i, _ o: __m512i, _ y: UnsafeRawPointer) -> SIMD16<Float> {
                acc.addingProduct(_mm512_cvtepi32_ps(_mm512_sub_epi32(t, o)) * dw, SIMD16<Float>(repeating: y.loadUnaligned(as: Float.self)))
            }
            acc0 = step(acc0, t0, o0, y0)
            if tokens > 1 { acc1 = step(acc1, t1, o1, y1) }
            if tokens > 2 { acc2 = step(acc2, t2, o2, y2) }
            if tokens > 3 { acc3 = step(acc3, t3, o3, y3) }
        }
        @inline(__always) func store(_ v: SIMD16<Float>, _ t: Int) { UnsafeMutableRawPointer(out + t * outStride).storeBytes(of: v, as: SIMD16<Float>.self) }
        store(acc0, 0)
        if tokens > 1 { store(acc1, 1) }
        if tokens > 2 { store(acc2, 2) }
        if tokens > 3 { store(acc3, 3) }
    }
}
