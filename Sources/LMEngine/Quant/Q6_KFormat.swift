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

    /// 8 weights at a time: weight 128h + 32m + 8k + l (sub-block 8h + 2m + k/2) takes its
    /// low nibble from ql[64h + 32(m&1) + 8k + l] (low nibble for m < 2) and its high bits
    /// from bits 2m of qh[32h + 8k + l]. The four 8-lane products of a group of 32 are
    /// folded into lanes of four consecutive elements, as in the reference. Bit-identical to it.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var lanes = SIMD8<Int32>()
            for h in 0..<2 {
                for m in 0..<4 {
                    let nibbleShift = UInt64(m < 2 ? 0 : 4), highShift = UInt64(2 * m)
                    @inline(__always) func part(_ k: Int) -> SIMD8<Int32> {
                        let ql = load8(x, 64 * h + 32 * (m & 1) + 8 * k), qh = load8(x, 128 + 32 * h + 8 * k)
                        let q = widen((ql >> nibbleShift) & bytesOf(0x0F) | ((qh >> highShift) & bytesOf(3)) << 4)
                        return scale(x, 8 * h + 2 * m + k / 2) &* (q &* loadInt8x8(y, 4 + 128 * h + 32 * m + 8 * k))
                    }
                    lanes &+= foldFours(part(0), part(1), part(2), part(3))
                }
            }
            for m in 0..<8 {
                let bsum0 = Int32(y.loadUnaligned(fromByteOffset: 260 + 4 * m, as: Int16.self))
                let bsum1 = Int32(y.loadUnaligned(fromByteOffset: 262 + 4 * m, as: Int16.self))
                lanes[m] &-= 32 &* (scale(x, 2 * m) &* bsum0 &+ scale(x, 2 * m + 1) &* bsum1)
            }
            let d = y.q8KScale() * x.loadHalf(208)
            acc = acc.addingProduct(SIMD8<Float>(repeating: d), floats(lanes))
        }
        return hsum8(acc)
    }
}

/// Four 8-lane vectors (elements 0…7, 8…15, 16…23, 24…31 of a group of 32) folded
/// into 8 lanes: lane m = Σ of elements 4m…4m+3 (exact).
@inline(__always)
func foldFours(_ v0: SIMD8<Int32>, _ v1: SIMD8<Int32>, _ v2: SIMD8<Int32>, _ v3: SIMD8<Int32>) -> SIMD8<Int32> {
    let pairs01 = SIMD8<Int32>(lowHalf: v0.evenHalf &+ v0.oddHalf, highHalf: v1.evenHalf &+ v1.oddHalf)
    let pairs23 = SIMD8<Int32>(lowHalf: v2.evenHalf &+ v2.oddHalf, highHalf: v3.evenHalf &+ v3.oddHalf)
    return SIMD8<Int32>(lowHalf: pairs01.evenHalf &+ pairs01.oddHalf, highHalf: pairs23.evenHalf &+ pairs23.oddHalf)
}
