import _Builtin_intrinsics.intel
import LMKernelsVNNI
/// Q5_K: super-blocks of 256 weights in 8 sub-blocks of 32, 176 bytes each.
///
///     offset 0    d           fp16   scale of the sub-block scales
///     offset 2    dmin        fp16   scale of the sub-block mins
///     offset 4    scales[12]  uint8  8 six-bit scales + 8 six-bit mins (see `scaleMinK4`)
///     offset 16   qh[32]      uint8  5th bits: bit s of qh[l] belongs to weight 32s + l
///     offset 48   qs[128]     uint8  low 4 bits, nibble order as Q4_K
///
/// Byte l of chunk c (qs[32c + l]) holds the low 4 bits of weight 64c + l (low
/// nibble) and 64c + 32 + l (high nibble). weight = d·scale[s] · code - dmin·min[s],
/// code in 0…31. Dotted against Q8_K activations.
public enum Q5_KFormat: BlockFormat {
    public static var type: GGMLType { .q5_K }
    public static var activationType: GGMLType { .q8_K }
    @inline(__always) static var blockBytes: Int { 176 }  // computed: a static let costs a lazy-init check per use

    /// The code (0…31) of weight e of a block.
    @inline(__always)
    static func code(_ block: UnsafeRawPointer, _ e: Int) -> Int32 {
        let c = e / 64, half = (e % 64) / 32, l = e % 32
        let byte = block.load(fromByteOffset: 48 + 32 * c + l, as: UInt8.self)
        let low = half == 0 ? byte & 0x0F : byte >> 4
        let high = (block.load(fromByteOffset: 16 + l, as: UInt8.self) >> UInt8(e / 32)) & 1
        return Int32(low | high << 4)
    }

    /// ggml's `dequantize_row_q5_K`.
    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 256 {
            let block = src + b * blockBytes
            let d = block.loadHalf(0), dmin = block.loadHalf(2)
            for s in 0..<8 {
                let (sc, m) = scaleMinK4(s, block + 4)
                let ds = d * Float(sc), ms = dmin * Float(m)
                for l in 0..<32 {
                    dst[b * 256 + 32 * s + l] = ds * Float(code(block, 32 * s + l)) - ms
                }
            }
        }
    }

    /// ggml's `quantize_row_q5_K_ref`: as Q4_K's with 31 levels and 16 trial grids
    /// from nmax-0.5 (`makeQKX2Quants`), then the 5th bits split off into qh.
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        var codes = [UInt8](repeating: 0, count: 256)
        codes.withUnsafeMutableBufferPointer { codes in
            let L = codes.baseAddress!
            for b in 0..<count / 256 {
                let x = src + b * 256
                let block = dst + b * blockBytes
                let (scales, mins) = searchAffineK(x: x, nmax: 31, rmin: -0.5, nstep: 15, L: L)
                finishAffineK(x: x, scales: scales, mins: mins, nmax: 31, L: L, block: block)
                for l in 0..<32 {
                    var qh: UInt8 = 0
                    for s in 0..<8 { qh |= (L[32 * s + l] >> 4) << UInt8(s) }
                    block.storeBytes(of: qh, toByteOffset: 16 + l, as: UInt8.self)
                }
                for c in 0..<4 {
                    for l in 0..<32 {
                        let q = (L[64 * c + l] & 0xF) | (L[64 * c + 32 + l] & 0xF) << 4
                        block.storeBytes(of: q, toByteOffset: 48 + 32 * c + l, as: UInt8.self)
                    }
                }
            }
        }
    }

    /// llama.cpp's x86 `ggml_vec_dot_q5_K_q8_K` (AVX2 path), as a plain loop. Per
    /// super-block, 8 Int32 lanes: lane m takes elements 4m…4m+3 of every group of 32, as
    /// scale·code·a (code 0…31); each lane goes to float and into fma(d_w·d_a, lane, acc).
    /// The mins go aside: summs = fma(−d_a·dmin_w, Σ min·(group sum), summs). The result
    /// is the 8 lanes added pairwise (`hsum8`) plus summs.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var summs: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var minTotal: Int32 = 0
            for g in 0..<16 { minTotal += y.q8KBlockSum(g) * scaleMinK4(g / 2, x + 4).min }
            summs = summs.addingProduct(-y.q8KScale() * x.loadHalf(2), Float(minTotal))
            var lanes = SIMD8<Int32>()
            for e in 0..<256 {
                let q8 = Int32(y.load(fromByteOffset: 4 + e, as: Int8.self))
                lanes[(e % 32) / 4] += scaleMinK4(e / 32, x + 4).scale * (q8 * code(x, e))
            }
            let d = y.q8KScale() * x.loadHalf(0)
            for m in 0..<8 { acc[m] = acc[m].addingProduct(d, Float(lanes[m])) }
        }
        return hsum8(acc) + summs
    }

    /// The reference with AVX2's byte products (`sixtyFourLanes`). Bit-identical.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var summs: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            prefetch(x + prefetchAhead, bytes: blockBytes)   // LMKernelsVNNI's Prefetch.swift
            let (lanes, minTotal) = blockSums(x, y)
            summs = summs.addingProduct(-y.q8KScale() * x.loadHalf(2), Float(minTotal))
            acc = acc.addingProduct(SIMD8<Float>(repeating: y.q8KScale() * x.loadHalf(0)), floats8(lanes))
        }
        return hsum8(acc) + summs
    }

    /// One super-block's Σ scale·code·a in 8 Int32 lanes (lane m: elements 4m…4m+3 of each
    /// group of 32) and its Σ min·(activation group sum).
    @inline(__always)
    static func blockSums(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer) -> (__m256i, Int32) {
        let (scales, mins) = scalesMinsK4(x + 4)
        let words = scaleWords(scales)
        var lanes = _mm256_setzero_si256()
        for c in 0..<4 { lanes = _mm256_add_epi32(lanes, sixtyFourLanes(x, y, c, scales: words)) }
        return (lanes, minSums(y, mins))
    }

    /// Σ scale·code·a over the 64 elements of sub-blocks 2c and 2c+1 in 8 Int32 lanes: the
    /// low nibbles of qs[32c…] (with bit 2c of qh) are sub-block 2c, the high ones (bit
    /// 2c+1) 2c+1; vpmaddubsw multiplies the codes (0…31) by the activations and adds
    /// pairs, vpmaddwd multiplies by the sub-block's scale and adds pairs.
    @inline(__always)
    static func sixtyFourLanes(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ c: Int, scales: __m256i) -> __m256i {
        let lowNibbles = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1)
        let codes = x.loadUnaligned(fromByteOffset: 48 + 32 * c, as: __m256i.self)
        let qh = x.loadUnaligned(fromByteOffset: 16, as: __m256i.self)
        let fifth0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, Int32(2 * c)), one), 4)
        let fifth1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, Int32(2 * c + 1)), one), 4)
        let low = _mm256_or_si256(_mm256_and_si256(codes, lowNibbles), fifth0)
        let high = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(codes, 4), lowNibbles), fifth1)
        let a0 = y.loadUnaligned(fromByteOffset: 4 + 64 * c, as: __m256i.self)
        let a1 = y.loadUnaligned(fromByteOffset: 4 + 64 * c + 32, as: __m256i.self)
        let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(low, a0), scaleLanes(scales, 2 * c))
        let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(high, a1), scaleLanes(scales, 2 * c + 1))
        return _mm256_add_epi32(p0, p1)
    }

    /// ggml's tiled K-quant kernel (ggml-cpu/tiled, AVX512-VNNI microtile), which takes a
    /// matmul of 8 or more activation rows: per super-block the exact integer totals
    /// s1 = Σ scale·code·a and s2 = Σ min·(group sum), then
    /// acc = fma(fnmadd(dmin_w, s2, s1·d_w), d_a, acc) in block order, no lanes.
    public static func dotTiledReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var s1: Int32 = 0, s2: Int32 = 0
            for g in 0..<16 { s2 += y.q8KBlockSum(g) * scaleMinK4(g / 2, x + 4).min }
            for e in 0..<256 {
                s1 += scaleMinK4(e / 32, x + 4).scale * (Int32(y.load(fromByteOffset: 4 + e, as: Int8.self)) * code(x, e))
            }
            acc = acc.addingProduct((Float(s1) * x.loadHalf(0)).addingProduct(-x.loadHalf(2), Float(s2)), y.q8KScale())
        }
        return acc
    }

    /// `dotTiledReference` with `dot`'s integer sums. Bit-identical.
    public static func dotTiled(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            let (lanes, s2) = blockSums(x, y)
            let s1 = unsafeBitCast(lanes, to: SIMD8<Int32>.self).wrappedSum()
            acc = acc.addingProduct((Float(s1) * x.loadHalf(0)).addingProduct(-x.loadHalf(2), Float(s2)), y.q8KScale())
        }
        return acc
    }
}

/// llama.cpp does not repack Q5_K on x86: a matmul of fewer than 8 rows is `dot` per
/// token, one of 8 or more its tiled kernel's order (`dotTiledReference`).
extension Q5_KFormat: MatmulKernel {
    static func prepareActivations(_ task: MatmulTask, in context: ComputeContext) -> UnsafeMutableRawPointer? {
        task.interleavedSubBlockSums(in: context)
    }

    static func matmulRows(_ task: MatmulTask, first: Int, end: Int, y: UnsafeMutablePointer<Float>) {
        let cols = task.w.cols, rows = task.w.rows, rb = task.w.rowBytes, ab = task.activationRowBytes
        let tiled = task.batchRows >= ComputeContext.tiledKQuantRows
        if task.vnni, let interleaved = task.w.interleaved, let sums = task.prepared {
            // Sixteen rows interleaved (`Q5_Kx16`).
            return task.runInterleavedQ5_K(interleaved, first: first, end: end, y: y, sums: UnsafeRawPointer(sums), tiled: tiled)
        }
        guard let a = task.activations else { return }
        for r in first..<end {
            let wr = task.w.data + r * rb
            for t in 0..<task.n {
                y[t * rows + r] = tiled ? dotTiled(wr, a + t * ab, count: cols) : dot(wr, a + t * ab, count: cols)
            }
        }
    }

    static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, token t: Int, of n: Int,
                             batchRows: Int, weightRows: Int) -> Float {
        batchRows >= ComputeContext.tiledKQuantRows ? dotTiledReference(w, a, count: count) : dotReference(w, a, count: count)
    }
}
