import _Builtin_intrinsics.intel
import LMKernelsVNNI
/// Q4_K: super-blocks of 256 weights in 8 sub-blocks of 32, 144 bytes each.
///
///     offset 0    d           fp16   scale of the sub-block scales
///     offset 2    dmin        fp16   scale of the sub-block mins
///     offset 4    scales[12]  uint8  8 six-bit scales + 8 six-bit mins (see `scaleMinK4`)
///     offset 16   qs[128]     uint8  4-bit codes
///
/// The codes come in 4 chunks of 32 bytes: byte l of chunk c holds weight 64c + l
/// in its low nibble (sub-block 2c) and weight 64c + 32 + l in its high nibble
/// (sub-block 2c + 1). weight = d·scale[s] · code - dmin·min[s], code in 0…15.
/// Dotted against Q8_K activations.
public enum Q4_KFormat: BlockFormat {
    public static var type: GGMLType { .q4_K }
    public static var activationType: GGMLType { .q8_K }
    // The layout above as constants (computed: a static let costs a lazy-init check per use).
    @inline(__always) static var blockBytes: Int { 144 }
    @inline(__always) static var dOffset: Int { 0 }
    @inline(__always) static var dminOffset: Int { 2 }
    @inline(__always) static var scalesOffset: Int { 4 }
    @inline(__always) static var qsOffset: Int { 16 }

    /// ggml's `dequantize_row_q4_K`.
    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 256 {
            let block = src + b * blockBytes
            let d = block.loadHalf(dOffset), dmin = block.loadHalf(dminOffset)
            let y = dst + b * 256
            for c in 0..<4 {
                let (sc1, m1) = scaleMinK4(2 * c, block + scalesOffset), (sc2, m2) = scaleMinK4(2 * c + 1, block + scalesOffset)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                for l in 0..<32 {
                    let byte = block.load(fromByteOffset: qsOffset + 32 * c + l, as: UInt8.self)
                    y[64 * c + l] = d1 * Float(byte & 0x0F) - min1
                    y[64 * c + 32 + l] = d2 * Float(byte >> 4) - min2
                }
            }
        }
    }

    /// ggml's `quantize_row_q4_K_ref`: per sub-block a weighted affine search
    /// (`makeQKX2Quants`, 15 levels, 21 trial grids from nmax-1 in steps of 0.1),
    /// scales and mins quantized to 6 bits, then all codes redone against them.
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        var codes = [UInt8](repeating: 0, count: 256)
        codes.withUnsafeMutableBufferPointer { codes in
            let L = codes.baseAddress!
            for b in 0..<count / 256 {
                let x = src + b * 256
                let block = dst + b * blockBytes
                let (scales, mins) = searchAffineK(x: x, nmax: 15, rmin: -1, nstep: 20, L: L)
                finishAffineK(x: x, scales: scales, mins: mins, nmax: 15, L: L, block: block)
                for c in 0..<4 {
                    for l in 0..<32 {
                        block.storeBytes(of: L[64 * c + l] | L[64 * c + 32 + l] << 4, toByteOffset: qsOffset + 32 * c + l, as: UInt8.self)
                    }
                }
            }
        }
    }

    /// llama.cpp's order on this machine, as a plain loop. Its CPU_REPACK layout
    /// (q4_K_8x8, for Q4_K tensors whose row count is a multiple of 8, x86 AVX2) computes
    /// per super-block the exact integer Σ scale·code·a and Σ min·(activation group sums),
    /// and keeps two float accumulators per output: acc = fma(Σ, d_w·d_a, acc) and
    /// accMin = fma(Σmin, dmin_w·d_a, accMin); the result is acc − accMin. That is its
    /// matrix×vector kernel (gemv); its kernel for groups of four activation rows (gemm,
    /// used in prefill for all but the last n % 4 rows) does the two fmas once per 64
    /// elements instead (`perSixtyFour`).
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        dotReference(w, a, count: count, perSixtyFour: false)
    }

    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, perSixtyFour: Bool) -> Float {
        var acc: Float = 0, accMin: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            let d = x.loadHalf(dOffset) * y.q8KScale(), dmin = x.loadHalf(dminOffset) * y.q8KScale()
            var sumi: Int32 = 0, summs: Int32 = 0
            for c in 0..<4 {   // 64 elements: sub-blocks 2c and 2c+1
                for g in (4 * c)..<(4 * c + 4) { summs += y.q8KBlockSum(g) * scaleMinK4(g / 2, x + scalesOffset).min }
                for e in (64 * c)..<(64 * c + 64) {
                    let half = (e % 64) / 32, l = e % 32
                    let byte = x.load(fromByteOffset: qsOffset + 32 * c + l, as: UInt8.self)
                    let code = Int32(half == 0 ? byte & 0x0F : byte >> 4)
                    let q8 = Int32(y.load(fromByteOffset: Q8_KFormat.qsOffset + e, as: Int8.self))
                    sumi += scaleMinK4(e / 32, x + scalesOffset).scale * (q8 * code)
                }
                if perSixtyFour || c == 3 {
                    acc = acc.addingProduct(Float(sumi), d)
                    accMin = accMin.addingProduct(Float(summs), dmin)
                    sumi = 0; summs = 0
                }
            }
        }
        return acc - accMin
    }

    /// Σ scale·code·a over the 64 elements of sub-blocks 2c and 2c+1, as 8 Int32 lanes
    /// (any split of an exact integer sum will do: only the total is used). One 32-byte
    /// load holds both sub-blocks' codes, low nibbles for 2c and high for 2c + 1;
    /// vpmaddubsw multiplies them (0…15) by the activations (signed bytes) and adds pairs
    /// (|Σ| ≤ 2·15·128, no saturation), vpmaddwd multiplies the pairs by the sub-block's
    /// scale and adds them into Int32 lanes.
    @inline(__always)
    static func sixtyFourLanes(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ c: Int, scales: __m256i) -> __m256i {
        let lowNibbles = _mm256_set1_epi8(0x0F)
        let codes = x.loadUnaligned(fromByteOffset: qsOffset + 32 * c, as: __m256i.self)
        let low = _mm256_and_si256(codes, lowNibbles)
        let high = _mm256_and_si256(_mm256_srli_epi16(codes, 4), lowNibbles)
        let a0 = y.loadUnaligned(fromByteOffset: Q8_KFormat.qsOffset + 64 * c, as: __m256i.self)
        let a1 = y.loadUnaligned(fromByteOffset: Q8_KFormat.qsOffset + 64 * c + 32, as: __m256i.self)
        let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(low, a0), scaleLanes(scales, 2 * c))
        let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(high, a1), scaleLanes(scales, 2 * c + 1))
        return _mm256_add_epi32(p0, p1)
    }

    /// The reference's sums with AVX2's byte products (`sixtyFourLanes`): one integer
    /// total per super-block (llama.cpp's gemv order), or per 64 elements with
    /// `perSixtyFour` (its four-row gemm order; see `dotReference`). Integer sums are
    /// exact and the float steps are the reference's, so the result is bit-identical.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        dot(w, a, count: count, perSixtyFour: false)
    }

    @inline(__always)
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, perSixtyFour: Bool) -> Float {
        var acc: Float = 0, accMin: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            let d = x.loadHalf(dOffset) * y.q8KScale(), dmin = x.loadHalf(dminOffset) * y.q8KScale()
            let (scales, mins) = scalesMinsK4(x + scalesOffset)
            let words = scaleWords(scales), minima = minLanes(y, minPairs(mins))   // lane k: sub-block k's Σ bsum·min
            var lanes = _mm256_setzero_si256()
            for c in 0..<4 {
                lanes = _mm256_add_epi32(lanes, sixtyFourLanes(x, y, c, scales: words))
                if perSixtyFour {
                    acc = acc.addingProduct(Float(unsafeBitCast(lanes, to: SIMD8<Int32>.self).wrappedSum()), d)
                    accMin = accMin.addingProduct(Float(pairSum(minima, c)), dmin)
                    lanes = _mm256_setzero_si256()
                }
            }
            if !perSixtyFour {
                acc = acc.addingProduct(Float(unsafeBitCast(lanes, to: SIMD8<Int32>.self).wrappedSum()), d)
                accMin = accMin.addingProduct(Float(unsafeBitCast(minima, to: SIMD8<Int32>.self).wrappedSum()), dmin)
            }
        }
        return acc - accMin
    }

    /// `dot` (llama.cpp's gemv order) for eight weight rows at once (row r at
    /// `w + r·rowBytes`), lane r = dot(row r): the rows' two fma chains side by side in
    /// vectors, as the q4_K_8x8 gemv keeps them; each block's eight integer totals (and
    /// eight min sums) added across by `rowSums8`, the eight d and dmin converted together.
    @inline(__always)
    static func dotRows8(_ w: UnsafeRawPointer, rowBytes rb: Int, _ a: UnsafeRawPointer, count: Int) -> SIMD8<Float> {
        var acc = SIMD8<Float>(), accMin = SIMD8<Float>()
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            @inline(__always) func rowLanes(_ x: UnsafeRawPointer) -> (total: __m256i, minima: __m256i) {
                let (scales, mins) = scalesMinsK4(x + scalesOffset)
                let words = scaleWords(scales)
                var lanes = sixtyFourLanes(x, y, 0, scales: words)
                for c in 1..<4 { lanes = _mm256_add_epi32(lanes, sixtyFourLanes(x, y, c, scales: words)) }
                return (lanes, minLanes(y, minPairs(mins)))
            }
            for k in 0..<8 { prefetch(x + k * rb + prefetchAhead, bytes: blockBytes) }   // LMKernelsVNNI's Prefetch.swift
            let r0 = rowLanes(x), r1 = rowLanes(x + rb), r2 = rowLanes(x + 2 * rb), r3 = rowLanes(x + 3 * rb)
            let r4 = rowLanes(x + 4 * rb), r5 = rowLanes(x + 5 * rb), r6 = rowLanes(x + 6 * rb), r7 = rowLanes(x + 7 * rb)
            let totals = rowSums8(r0.total, r1.total, r2.total, r3.total, r4.total, r5.total, r6.total, r7.total)
            let minima = rowSums8(r0.minima, r1.minima, r2.minima, r3.minima, r4.minima, r5.minima, r6.minima, r7.minima)
            let da = SIMD8<Float>(repeating: y.q8KScale())
            acc = acc.addingProduct(floats8(totals), halves8(x, rowBytes: rb, dOffset) * da)
            accMin = accMin.addingProduct(floats8(minima), halves8(x, rowBytes: rb, dminOffset) * da)
        }
        return acc - accMin
    }

    /// Lanes 2c and 2c+1 of v added: the min sum of sub-blocks 2c and 2c+1.
    @inline(__always)
    static func pairSum(_ v: __m256i, _ c: Int) -> Int32 {
        let lanes = unsafeBitCast(v, to: SIMD8<Int32>.self)
        return lanes[2 * c] &+ lanes[2 * c + 1]
    }
}

/// Four tokens of one weight row: the dots of `w` with the Q8_K activation rows a,
/// a + stride, a + 2·stride, a + 3·stride, each bit-identical to `dot(perSixtyFour:)`. The row's codes and scales are unpacked once per 64
/// elements for all four tokens; the four integer totals are reduced together
/// (`laneSums4`) and scaled as four float lanes, token k in lane k.
extension Q4_KFormat {
    @inline(__always)
    static func dotTokens4(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, stride: Int, count: Int,
                           perSixtyFour: Bool) -> SIMD4<Float> {
        var acc = SIMD4<Float>(), accMin = SIMD4<Float>()
        let lowNibbles = _mm256_set1_epi8(0x0F)
        for b in 0..<count / 256 {
            let x = w + b * blockBytes
            let y0 = a + b * Q8_KFormat.blockBytes, y1 = y0 + stride, y2 = y1 + stride, y3 = y2 + stride
            let scaleA = SIMD4<Float>(y0.q8KScale(), y1.q8KScale(), y2.q8KScale(), y3.q8KScale())
            let d = SIMD4<Float>(repeating: x.loadHalf(dOffset)) * scaleA
            let dmin = SIMD4<Float>(repeating: x.loadHalf(dminOffset)) * scaleA
            let (scales, mins) = scalesMinsK4(x + scalesOffset)
            let words = scaleWords(scales), pairs = minPairs(mins)
            // Lane k of m_t: sub-block k's Σ bsum·min for token t.
            let m0 = minLanes(y0, pairs), m1 = minLanes(y1, pairs), m2 = minLanes(y2, pairs), m3 = minLanes(y3, pairs)
            // perSixtyFour: the four tokens' min sums of each 64 elements, as floats (lanes: tokens).
            let minsBySixtyFour = sixtyFourSums(m0, m1, m2, m3)   // unused (folded away) unless perSixtyFour
            var i0 = _mm256_setzero_si256(), i1 = i0, i2 = i0, i3 = i0
            for c in 0..<4 {
                let codes = x.loadUnaligned(fromByteOffset: qsOffset + 32 * c, as: __m256i.self)
                let low = _mm256_and_si256(codes, lowNibbles)
                let high = _mm256_and_si256(_mm256_srli_epi16(codes, 4), lowNibbles)
                let s0 = scaleLanes(words, 2 * c), s1 = scaleLanes(words, 2 * c + 1)
                @inline(__always) func lanes(_ y: UnsafeRawPointer) -> __m256i {
                    let a0 = y.loadUnaligned(fromByteOffset: Q8_KFormat.qsOffset + 64 * c, as: __m256i.self)
                    let a1 = y.loadUnaligned(fromByteOffset: Q8_KFormat.qsOffset + 64 * c + 32, as: __m256i.self)
                    return _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(low, a0), s0),
                                            _mm256_madd_epi16(_mm256_maddubs_epi16(high, a1), s1))
                }
                i0 = _mm256_add_epi32(i0, lanes(y0)); i1 = _mm256_add_epi32(i1, lanes(y1))
                i2 = _mm256_add_epi32(i2, lanes(y2)); i3 = _mm256_add_epi32(i3, lanes(y3))
                if perSixtyFour {
                    acc = acc.addingProduct(floats4(laneSums4(i0, i1, i2, i3)), d)
                    let pair = c & 1 == 0 ? minsBySixtyFour.even : minsBySixtyFour.odd
                    accMin = accMin.addingProduct(c < 2 ? pair.lowHalf : pair.highHalf, dmin)
                    i0 = _mm256_setzero_si256(); i1 = i0; i2 = i0; i3 = i0
                }
            }
            if !perSixtyFour {
                acc = acc.addingProduct(floats4(laneSums4(i0, i1, i2, i3)), d)
                accMin = accMin.addingProduct(floats4(laneSums4(m0, m1, m2, m3)), dmin)
            }
        }
        return acc - accMin
    }

    /// c0…c3 for four tokens' `minLanes` m0…m3, as floats: c_j = [t0, t1, t2, t3] of
    /// lanes 2j + 2j+1 (sub-blocks 2j and 2j+1, the 64 elements of chunk j); even holds
    /// c0 | c2, odd c1 | c3.
    /// vphaddd adds the pairs ([t0c0 t0c1 t1c0 t1c1 | t0c2 t0c3 t1c2 t1c3] for m0, m1),
    /// two rounds of vpunpck{l,h}dq transpose them into one token per lane.
    @inline(__always)
    static func sixtyFourSums(_ m0: __m256i, _ m1: __m256i, _ m2: __m256i, _ m3: __m256i) -> (even: SIMD8<Float>, odd: SIMD8<Float>) {
        let h01 = _mm256_hadd_epi32(m0, m1), h23 = _mm256_hadd_epi32(m2, m3)
        let u = _mm256_unpacklo_epi32(h01, h23), v = _mm256_unpackhi_epi32(h01, h23)
        return (floats8(_mm256_unpacklo_epi32(u, v)), floats8(_mm256_unpackhi_epi32(u, v)))
    }
}

/// llama.cpp's repacked Q4_K kernels sum in one order for groups of four tokens (gemm:
/// all but the last n % 4 tokens of a prefill) and in another for the rest (gemv); see
/// `dotReference(_:_:count:perSixtyFour:)`. Prefill runs four tokens a row at once
/// (`dotTokens4`).
extension Q4_KFormat: MatmulKernel {
    static func prepareActivations(_ task: MatmulTask, in context: ComputeContext) -> UnsafeMutableRawPointer? {
        task.interleavedSubBlockSums(in: context)
    }

    static func matmulRows(_ task: MatmulTask, first: Int, end: Int, y: UnsafeMutablePointer<Float>) {
        let cols = task.w.cols, stride = task.activationRowBytes
        let fourRowTokens = fourRowTokenCount(n: task.n, batchRows: task.batchRows)
        if task.vnni, let interleaved = task.w.interleaved, let sums = task.prepared {
            task.runInterleavedQ4_K(interleaved, first: first, end: end, y: y, sums: UnsafeRawPointer(sums), fourRowTokens: fourRowTokens)
            return
        }
        task.runTokenTiles(first: first, end: end, y: y,
            tile: { w, a, t in
                t < fourRowTokens ? dotTokens4(w, a, stride: stride, count: cols, perSixtyFour: true)
                                  : dotTokens4(w, a, stride: stride, count: cols, perSixtyFour: false)
            },
            // Single tokens are the last n % 4 (or all of a decode), which llama.cpp's gemm
            // leaves to its gemv: always the gemv order.
            single: { w, a, _ in dot(w, a, count: cols) },
            singleRows: (8, { w, a, _, out in out.store(dotRows8(w, rowBytes: task.w.rowBytes, a, count: cols)) }))
    }

    static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, token t: Int, of n: Int,
                             batchRows: Int, weightRows: Int) -> Float {
        dotReference(w, a, count: count, perSixtyFour: t < fourRowTokenCount(n: n, batchRows: batchRows))
    }

    /// How many of this matmul's n tokens llama.cpp's gemm takes: all but the last n % 4
    /// when its own matmul has more than three rows, none (gemv) otherwise. lmlab's batches
    /// start at multiples of 4 in llama.cpp's, so the n % 4 left over are the same tokens.
    static func fourRowTokenCount(n: Int, batchRows: Int) -> Int { batchRows > 3 ? n - n % 4 : 0 }
}

extension MatmulTask {
    /// Rows first..<end (whole groups of sixteen) of y from the interleaved Q4_K copy
    /// (`Q4_Kx16`, `runGroups`): tiles of four tokens in llama.cpp's gemm order for the
    /// first `fourRowTokens`, its gemv order for the rest, sixteen outputs a store.
    /// `sums`: the activations' sub-block sums.
    func runInterleavedQ4_K(_ interleaved: InterleavedRows, first: Int, end: Int, y: UnsafeMutablePointer<Float>,
                            sums: UnsafeRawPointer, fourRowTokens: Int) {
        let a = activations!, ab = activationRowBytes, rows = w.rows, blocks = w.cols / 256
        let base = interleaved.base, groupBytes = interleaved.groupBytes, sb = 16 * blocks
        runGroups(interleaved, first: first, end: end,
            tile: { g, t in
                Q4_KInterleavedKernels.dotRows16Tokens4(base + g * groupBytes, a + t * ab, rowBytes: ab, sums: sums + t * sb, sumBytes: sb,
                                                        blocks: blocks, perSixtyFour: t < fourRowTokens, out: y + t * rows + 16 * g, outStride: rows)
            },
            single: { g, t in
                Q4_KInterleavedKernels.dotRows16(base + g * groupBytes, a + t * ab, sums: sums + t * sb, blocks: blocks,
                                                 perSixtyFour: false, out: y + t * rows + 16 * g)
            })
    }
}
