import _Builtin_intrinsics.intel
import LMKernelsVNNI
/// Q6_K: super-blocks of 256 weights in 16 sub-blocks of 16, 210 bytes each.
///
///     offset 0    ql[128]     uint8  low 4 bits of the codes
///     offset 128  qh[64]      uint8  high 2 bits of the codes
///     offset 192  scales[16]  int8   one scale per sub-block of 16
///     offset 208  d           fp16   scale of the scales
///
/// Each half h (128 weights) uses ql[64h ..< 64h+64] and qh[32h ..< 32h+32]. For
/// l in 0..<32, weight 128h + 32k + l takes its low nibble from ql[64h + l] (k = 0:
/// low nibble, k = 2: high) or ql[64h + 32 + l] (k = 1: low, k = 3: high), and its
/// high 2 bits from bits 2k…2k+1 of qh[32h + l].
/// weight = d · scales[e/16] · (code - 32), code in 0…63. Dotted against Q8_K.
public enum Q6_KFormat: BlockFormat {
    public static var type: GGMLType { .q6_K }
    public static var activationType: GGMLType { .q8_K }
    @inline(__always) static var blockBytes: Int { 210 }  // computed: a static let costs a lazy-init check per use

    /// The signed code (-32…31) of weight e of a block.
    @inline(__always)
    static func code(_ block: UnsafeRawPointer, _ e: Int) -> Int32 {
        let h = e / 128, k = (e % 128) / 32, l = e % 32
        let low = block.load(fromByteOffset: 64 * h + 32 * (k & 1) + l, as: UInt8.self)
        let nibble = k < 2 ? low & 0x0F : low >> 4
        let high = (block.load(fromByteOffset: 128 + 32 * h + l, as: UInt8.self) >> UInt8(2 * k)) & 3
        return Int32(nibble | high << 4) - 32
    }

    @inline(__always)
    static func scale(_ block: UnsafeRawPointer, _ s: Int) -> Int32 {
        Int32(block.load(fromByteOffset: 192 + s, as: Int8.self))
    }

    /// ggml's `dequantize_row_q6_K`: d · scale · code, multiplied in that order.
    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 256 {
            let block = src + b * blockBytes
            let d = block.loadHalf(208)
            for e in 0..<256 {
                dst[b * 256 + e] = d * Float(scale(block, e / 16)) * Float(code(block, e))
            }
        }
    }

    /// ggml's `quantize_row_q6_K_ref`: per sub-block of 16 a symmetric scale search
    /// (`makeQXQuants`, 32 levels each side, weights x²); the scales are quantized to
    /// int8 against d = (the scale of largest magnitude, signed) / -128, then every
    /// code is redone against its quantized scale.
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        var codes = [Int8](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 16)
        codes.withUnsafeMutableBufferPointer { codes in
            let L = codes.baseAddress!
            for b in 0..<count / 256 {
                let x = src + b * 256
                let block = dst + b * blockBytes
                var maxScale: Float = 0, maxAbsScale: Float = 0
                for s in 0..<16 {
                    let scale = makeQXQuants(n: 16, nmax: 32, x: x + 16 * s, L: L + 16 * s, rmseType: 1)
                    scales[s] = scale
                    if abs(scale) > maxAbsScale { maxAbsScale = abs(scale); maxScale = scale }
                }
                if maxAbsScale < groupMaxEps {
                    block.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
                    continue
                }
                let iscale = -128 / maxScale
                block.storeHalf(1 / iscale, 208)
                for s in 0..<16 {
                    let q = min(127, nearestInt(iscale * scales[s]))
                    block.storeBytes(of: Int8(truncatingIfNeeded: q), toByteOffset: 192 + s, as: Int8.self)
                }
                let dAll = UnsafeRawPointer(block).loadHalf(208)
                for s in 0..<16 {
                    let d = dAll * Float(scale(UnsafeRawPointer(block), s))
                    if d == 0 { continue }   // keep the search's codes, as ggml does
                    for i in 0..<16 {
                        let l = max(-32, min(31, nearestInt(x[16 * s + i] / d)))
                        L[16 * s + i] = Int8(l + 32)
                    }
                }
                // Pack: see the layout above.
                for h in 0..<2 {
                    for l in 0..<32 {
                        let e = 128 * h + l
                        let q1 = UInt8(L[e]), q2 = UInt8(L[e + 32]), q3 = UInt8(L[e + 64]), q4 = UInt8(L[e + 96])
                        block.storeBytes(of: (q1 & 0xF) | (q3 & 0xF) << 4, toByteOffset: 64 * h + l, as: UInt8.self)
                        block.storeBytes(of: (q2 & 0xF) | (q4 & 0xF) << 4, toByteOffset: 64 * h + 32 + l, as: UInt8.self)
                        block.storeBytes(of: q1 >> 4 | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6,
                                         toByteOffset: 128 + 32 * h + l, as: UInt8.self)
                    }
                }
            }
        }
    }

    /// llama.cpp's x86 `ggml_vec_dot_q6_K_q8_K` (AVX2 path), as a plain loop. Per
    /// super-block, 8 Int32 lanes: lane m takes elements 4m…4m+3 of every group of 32,
    /// as scale·code·a with the code unsigned (0…63), and then loses
    /// 32·(scale·bsum) of sub-blocks 2m and 2m+1 (the −32 of the codes, applied through
    /// the activation group sums, so it lands in different lanes than the products).
    /// Each lane goes to float and is accumulated as fma(d_w·d_a, lane, acc); the 8
    /// float lanes are added pairwise at the end (`hsum8`).
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var lanes = SIMD8<Int32>()
            for e in 0..<256 {
                let q8 = Int32(y.load(fromByteOffset: 4 + e, as: Int8.self))
                lanes[(e % 32) / 4] += scale(x, e / 16) * ((code(x, e) + 32) * q8)
            }
            for m in 0..<8 {
                let bsum0 = Int32(y.loadUnaligned(fromByteOffset: 260 + 4 * m, as: Int16.self))
                let bsum1 = Int32(y.loadUnaligned(fromByteOffset: 262 + 4 * m, as: Int16.self))
                lanes[m] -= 32 * (scale(x, 2 * m) * bsum0 + scale(x, 2 * m + 1) * bsum1)
            }
            let d = y.q8KScale() * x.loadHalf(208)
            for m in 0..<8 { acc[m] = acc[m].addingProduct(d, Float(lanes[m])) }
        }
        return hsum8(acc)
    }

    /// ggml's tiled K-quant kernel (tiled/tiled.cpp, its AVX512-VNNI microtile), which takes a
    /// matmul of 8 or more activation rows: per super-block the exact integer total
    /// Σ scale·code·a (code −32…31), then acc = fma(float(total)·d_w, d_a, acc) in block
    /// order, no lanes (GCC contracts the kernel's multiply and add into one fma).
    public static func dotTiledReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var total: Int32 = 0
            for e in 0..<256 {
                total += scale(x, e / 16) * (code(x, e) * Int32(y.load(fromByteOffset: 4 + e, as: Int8.self)))
            }
            acc = acc.addingProduct(Float(total) * x.loadHalf(208), y.q8KScale())
        }
        return acc
    }

    /// Group m of half h (weights 128h + 32m …+31): the 32 unsigned codes (0…63) as bytes
    /// in element order — low nibble from ql[64h + 32(m&1) + l] (the high nibble for m ≥ 2),
    /// high two bits from bits 2m of qh[32h + l] (`qh`: those 32 bytes) — and the scales
    /// of its two sub-blocks, 8h + 2m in Int16 lanes 0…7 and the next in lanes 8…15, picked
    /// by one vpshufb from `halfScales(x, h)`.
    @inline(__always)
    static func group(_ x: UnsafeRawPointer, _ h: Int, _ m: Int, _ qh: __m256i, _ halfScales: __m256i) -> (codes: __m256i, scales: __m256i) {
        let lowNibbles = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30)
        let ql = x.loadUnaligned(fromByteOffset: 64 * h + 32 * (m & 1), as: __m256i.self)
        let nibbles = _mm256_and_si256(m < 2 ? ql : _mm256_srli_epi16(ql, 4), lowNibbles)
        // bits 2m, 2m+1 of each qh byte moved to bits 4, 5 (the 16-bit shifts carry bits
        // across the bytes of a word only into places the mask clears)
        let moved = m == 0 ? _mm256_slli_epi16(qh, 4) : m == 1 ? _mm256_slli_epi16(qh, 2) : m == 2 ? qh : _mm256_srli_epi16(qh, 2)
        let high = _mm256_and_si256(moved, bits45)
        // Int16 word 2m of each 128-bit half into the low half's lanes, word 2m + 1 into the high's.
        let low = Int16(4 * m) | Int16(4 * m + 1) << 8, next = Int16(4 * m + 2) | Int16(4 * m + 3) << 8
        let pick = unsafeBitCast(SIMD16<Int16>(lowHalf: SIMD8(repeating: low), highHalf: SIMD8(repeating: next)), to: __m256i.self)
        return (_mm256_or_si256(nibbles, high), _mm256_shuffle_epi8(halfScales, pick))
    }

    /// The 8 scales of half h (sub-blocks 8h…8h+7) as Int16 words 0…7 of both 128-bit halves.
    @inline(__always)
    static func halfScales(_ x: UnsafeRawPointer, _ h: Int) -> __m256i {
        _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(x.loadUnaligned(fromByteOffset: 192 + 8 * h, as: Int64.self))))
    }

    /// 32 weights at a time with AVX2's byte products: weight 128h + 32m + l takes its low
    /// nibble from ql[64h + 32(m&1) + l] (low nibble for m < 2) and its high bits from
    /// bits 2m of qh[32h + l]. vpmaddubsw multiplies the codes (0…63) by the activations
    /// (signed bytes) and adds pairs (|Σ| ≤ 2·63·128, no saturation); vpmaddwd multiplies
    /// the pairs by their sub-block's scale (elements 0…15 of the 32: sub-block 8h + 2m,
    /// 16…31: the next) and adds them, so Int32 lane k holds elements 4k…4k+3, the
    /// reference's lanes. The −32 offset is taken off per lane from the activation group
    /// sums, also through vpmaddwd (lane m: sub-blocks 2m and 2m+1). Bit-identical.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            prefetch(x + prefetchAhead, bytes: blockBytes)   // LMKernelsVNNI's Prefetch.swift
            let d = y.q8KScale() * x.loadHalf(208)
            acc = acc.addingProduct(SIMD8<Float>(repeating: d), floats8(blockLanes(x, y)))
        }
        return hsum8(acc)
    }

    /// One super-block's 8 Int32 lanes for `dot`, the −32 offset taken off.
    @inline(__always)
    static func blockLanes(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer) -> __m256i {
        var lanes = _mm256_setzero_si256()
        for h in 0..<2 {
            let qh = x.loadUnaligned(fromByteOffset: 128 + 32 * h, as: __m256i.self), hs = halfScales(x, h)
            for m in 0..<4 {
                let (codes, scales) = group(x, h, m, qh, hs)
                let act = y.loadUnaligned(fromByteOffset: 4 + 128 * h + 32 * m, as: __m256i.self)
                lanes = _mm256_add_epi32(lanes, _mm256_madd_epi16(_mm256_maddubs_epi16(codes, act), scales))
            }
        }
        let groupSums = y.loadUnaligned(fromByteOffset: 260, as: __m256i.self)   // 16 × Int16 bsums
        let allScales = _mm256_cvtepi8_epi16(x.loadUnaligned(fromByteOffset: 192, as: __m128i.self))
        let offset = _mm256_slli_epi32(_mm256_madd_epi16(groupSums, allScales), 5)   // 32 · Σ scale·bsum
        return _mm256_sub_epi32(lanes, offset)
    }

    /// `dotTiledReference` with `dot`'s byte products: the 8 lanes of a super-block add up
    /// to its exact integer total, which the tiled kernel then scales. Bit-identical.
    public static func dotTiled(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            acc = acc.addingProduct(Float(blockTotal(x, y)) * x.loadHalf(208), y.q8KScale())
        }
        return acc
    }

    /// Σ scale·code·a over one super-block, exact (|Σ| < 2³¹: 256 · 32 · 128 · 128).
    @inline(__always)
    static func blockTotal(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer) -> Int32 {
        unsafeBitCast(blockLanes(x, y), to: SIMD8<Int32>.self).wrappedSum()
    }
}

/// Prefill: four tokens a row at once (`dotTokens4`). llama.cpp does not repack Q6_K on
/// x86: a matmul of fewer than 8 rows is `dot` per token, one of 8 or more its tiled
/// kernel's order (`dotTiledReference`).
extension Q6_KFormat: MatmulKernel {
    static func matmulRows(_ task: MatmulTask, first: Int, end: Int, y: UnsafeMutablePointer<Float>) {
        let cols = task.w.cols, stride = task.activationRowBytes
        if task.vnni, let interleaved = task.w.interleaved {
            // Sixteen rows interleaved (`Q6_Kx16`).
            return task.runInterleavedQ6_K(interleaved, first: first, end: end, y: y,
                                           tiled: task.batchRows >= ComputeContext.tiledKQuantRows)
        }
        if task.vnni {
            // The same dots with 512-bit byte products (LMKernelsVNNI).
            let tiled = task.batchRows >= ComputeContext.tiledKQuantRows, halves = HalfTable.floats
            return task.runTokenTiles(first: first, end: end, y: y,
                tile: { w, a, _ in Q6_KKernels.dotTokens4(w, a, stride: stride, count: cols, tiled: tiled, halves: halves) },
                single: { w, a, _ in
                    tiled ? Q6_KKernels.dotTiled(w, a, count: cols, halves: halves) : Q6_KKernels.dot(w, a, count: cols, halves: halves)
                })
        }
        if task.batchRows >= ComputeContext.tiledKQuantRows {
            return task.runTokenTiles(first: first, end: end, y: y,
                tile: { w, a, _ in dotTokens4Tiled(w, a, stride: stride, count: cols) },
                single: { w, a, _ in dotTiled(w, a, count: cols) })
        }
        task.runTokenTiles(first: first, end: end, y: y,
            tile: { w, a, _ in dotTokens4(w, a, stride: stride, count: cols) },
            single: { w, a, _ in dot(w, a, count: cols) })
    }

    static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, token t: Int, of n: Int,
                             batchRows: Int, weightRows: Int) -> Float {
        batchRows >= ComputeContext.tiledKQuantRows ? dotTiledReference(w, a, count: count) : dotReference(w, a, count: count)
    }

    /// `dot` for the Q8_K activation rows a, a + stride, a + 2·stride, a + 3·stride (token k
    /// in lane k of the result), bit-identical: each group of 32 codes and its scales are
    /// unpacked once and multiplied by the four tokens' activations.
    @inline(__always)
    static func dotTokens4(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, stride: Int, count: Int) -> SIMD4<Float> {
        var acc0 = SIMD8<Float>(), acc1 = acc0, acc2 = acc0, acc3 = acc0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes
            let y0 = a + b * Q8_KFormat.blockBytes, y1 = y0 + stride, y2 = y1 + stride, y3 = y2 + stride
            let (i0, i1, i2, i3) = blockLanes4(x, y0, y1, y2, y3)
            let dw = x.loadHalf(208)
            acc0 = acc0.addingProduct(SIMD8<Float>(repeating: y0.q8KScale() * dw), floats8(i0))
            acc1 = acc1.addingProduct(SIMD8<Float>(repeating: y1.q8KScale() * dw), floats8(i1))
            acc2 = acc2.addingProduct(SIMD8<Float>(repeating: y2.q8KScale() * dw), floats8(i2))
            acc3 = acc3.addingProduct(SIMD8<Float>(repeating: y3.q8KScale() * dw), floats8(i3))
        }
        return SIMD4<Float>(hsum8(acc0), hsum8(acc1), hsum8(acc2), hsum8(acc3))
    }

    /// `dotTiled` for four tokens (rows a + k·stride), the weight block unpacked once.
    @inline(__always)
    static func dotTokens4Tiled(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, stride: Int, count: Int) -> SIMD4<Float> {
        var acc = SIMD4<Float>()
        for b in 0..<count / 256 {
            let x = w + b * blockBytes
            let y0 = a + b * Q8_KFormat.blockBytes, y1 = y0 + stride, y2 = y1 + stride, y3 = y2 + stride
            let (i0, i1, i2, i3) = blockLanes4(x, y0, y1, y2, y3)
            @inline(__always) func total(_ v: __m256i) -> Float { Float(unsafeBitCast(v, to: SIMD8<Int32>.self).wrappedSum()) }
            let totals = SIMD4<Float>(total(i0), total(i1), total(i2), total(i3))
            let da = SIMD4<Float>(y0.q8KScale(), y1.q8KScale(), y2.q8KScale(), y3.q8KScale())
            acc = acc.addingProduct(totals * SIMD4(repeating: x.loadHalf(208)), da)
        }
        return acc
    }

    /// One super-block's 8 Int32 lanes (`dot`'s, the −32 offset taken off) for four tokens.
    @inline(__always)
    static func blockLanes4(_ x: UnsafeRawPointer, _ y0: UnsafeRawPointer, _ y1: UnsafeRawPointer, _ y2: UnsafeRawPointer,
                            _ y3: UnsafeRawPointer) -> (__m256i, __m256i, __m256i, __m256i) {
        var i0 = _mm256_setzero_si256(), i1 = i0, i2 = i0, i3 = i0
        for h in 0..<2 {
            let qh = x.loadUnaligned(fromByteOffset: 128 + 32 * h, as: __m256i.self), hs = halfScales(x, h)
            for m in 0..<4 {
                let (codes, scales) = group(x, h, m, qh, hs)
                let offset = 4 + 128 * h + 32 * m
                @inline(__always) func lanes(_ y: UnsafeRawPointer) -> __m256i {
                    _mm256_madd_epi16(_mm256_maddubs_epi16(codes, y.loadUnaligned(fromByteOffset: offset, as: __m256i.self)), scales)
                }
                i0 = _mm256_add_epi32(i0, lanes(y0)); i1 = _mm256_add_epi32(i1, lanes(y1))
                i2 = _mm256_add_epi32(i2, lanes(y2)); i3 = _mm256_add_epi32(i3, lanes(y3))
            }
        }
        let allScales = _mm256_cvtepi8_epi16(x.loadUnaligned(fromByteOffset: 192, as: __m128i.self))
        @inline(__always) func lessOffset(_ lanes: __m256i, _ y: UnsafeRawPointer) -> __m256i {
            let groupSums = y.loadUnaligned(fromByteOffset: 260, as: __m256i.self)
            return _mm256_sub_epi32(lanes, _mm256_slli_epi32(_mm256_madd_epi16(groupSums, allScales), 5))   // − 32 · Σ scale·bsum
        }
        return (lessOffset(i0, y0), lessOffset(i1, y1), lessOffset(i2, y2), lessOffset(i3, y3))
    }
}
