/// Q2_K: super-blocks of 256 weights in 16 sub-blocks of 16, 84 bytes each.
///
///     offset 0    scales[16]  uint8  sub-block s: scale in the low nibble, min in the high
///     offset 16   qs[64]      uint8  2-bit codes, four per byte
///     offset 80   d           fp16   scale of the sub-block scales
///     offset 82   dmin        fp16   scale of the sub-block mins
///
/// Each half h (128 weights) uses qs[32h ..< 32h+32]: bits 2j…2j+1 of qs[32h + l]
/// hold weight 128h + 32j + l. weight = d·(scales[s] & 15) · code - dmin·(scales[s] >> 4),
/// code in 0…3. Dotted against Q8_K activations.
public enum Q2_KFormat: BlockFormat {
    public static var type: GGMLType { .q2_K }
    public static var activationType: GGMLType { .q8_K }
    @inline(__always) static var blockBytes: Int { 84 }  // computed: a static let costs a lazy-init check per use

    /// The code (0…3) of weight e of a block.
    @inline(__always)
    static func code(_ block: UnsafeRawPointer, _ e: Int) -> Int32 {
        let h = e / 128, j = (e % 128) / 32, l = e % 32
        return Int32((block.load(fromByteOffset: 16 + 32 * h + l, as: UInt8.self) >> UInt8(2 * j)) & 3)
    }

    @inline(__always)
    static func scaleByte(_ block: UnsafeRawPointer, _ s: Int) -> UInt8 {
        block.load(fromByteOffset: s, as: UInt8.self)
    }

    /// ggml's `dequantize_row_q2_K`.
    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 256 {
            let block = src + b * blockBytes
            let d = block.loadHalf(80), dmin = block.loadHalf(82)
            for s in 0..<16 {
                let sc = scaleByte(block, s)
                let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                for i in 0..<16 {
                    dst[b * 256 + 16 * s + i] = dl * Float(code(block, 16 * s + i)) - ml
                }
            }
        }
    }

    /// ggml's `quantize_row_q2_K_ref`: per sub-block of 16 an affine search
    /// (`makeQKX2Quants`, 3 levels, weights |x|, absolute-error criterion, 16 trial
    /// grids from nmax-0.5); scales and mins quantized to 4 bits against
    /// d = maxScale/15, dmin = maxMin/15; then every code redone against them.
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        var codes = [UInt8](repeating: 0, count: 256)
        var weights = [Float](repeating: 0, count: 16)
        var scales = [Float](repeating: 0, count: 16), mins = [Float](repeating: 0, count: 16)
        codes.withUnsafeMutableBufferPointer { codes in
            let L = codes.baseAddress!
            for b in 0..<count / 256 {
                let x = src + b * 256
                let block = dst + b * blockBytes
                var maxScale: Float = 0, maxMin: Float = 0
                for s in 0..<16 {
                    for i in 0..<16 { weights[i] = abs(x[16 * s + i]) }
                    let r = weights.withUnsafeBufferPointer {
                        makeQKX2Quants(n: 16, nmax: 3, x: x + 16 * s, weights: $0.baseAddress!, L: L + 16 * s,
                                       rmin: -0.5, rdelta: 0.1, nstep: 15, useMad: true)
                    }
                    scales[s] = r.scale; mins[s] = r.theMin
                    if r.scale > maxScale { maxScale = r.scale }
                    if r.theMin > maxMin { maxMin = r.theMin }
                }
                var packed = [UInt8](repeating: 0, count: 16)
                if maxScale > 0 {
                    let iscale = 15 / maxScale
                    for s in 0..<16 { packed[s] = UInt8(truncatingIfNeeded: nearestInt(iscale * scales[s])) }
                    block.storeHalf(maxScale / 15, 80)
                } else {
                    block.storeHalf(0, 80)
                }
                if maxMin > 0 {
                    let iscale = 15 / maxMin
                    for s in 0..<16 { packed[s] |= UInt8(truncatingIfNeeded: nearestInt(iscale * mins[s]) << 4) }
                    block.storeHalf(maxMin / 15, 82)
                } else {
                    block.storeHalf(0, 82)
                }
                for s in 0..<16 { block.storeBytes(of: packed[s], toByteOffset: s, as: UInt8.self) }
                let dAll = UnsafeRawPointer(block).loadHalf(80), dminAll = UnsafeRawPointer(block).loadHalf(82)
                for s in 0..<16 {
                    let d = dAll * Float(packed[s] & 0xF)
                    if d == 0 { continue }   // keep the search's codes, as ggml does
                    let dm = dminAll * Float(packed[s] >> 4)
                    for i in 0..<16 {
                        L[16 * s + i] = UInt8(max(0, min(3, nearestInt((x[16 * s + i] + dm) / d))))
                    }
                }
                for h in 0..<2 {
                    for l in 0..<32 {
                        let e = 128 * h + l
                        let q = L[e] | L[e + 32] << 2 | L[e + 64] << 4 | L[e + 96] << 6
                        block.storeBytes(of: q, toByteOffset: 16 + 32 * h + l, as: UInt8.self)
                    }
                }
            }
        }
    }

    /// ggml_vec_dot_q2_K_q8_K (generic): one exact integer sum per super-block of
    /// scale·code·activation, the mins through the activations' group sums
    /// (Σ min[s] · bsums[s]); then dall·isum - dmin·summs.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var summs: Int32 = 0
            for s in 0..<16 { summs += y.q8KBlockSum(s) * Int32(scaleByte(x, s) >> 4) }
            var isum: Int32 = 0
            for s in 0..<16 {
                var isuml: Int32 = 0
                for i in 0..<16 {
                    isuml += Int32(y.load(fromByteOffset: 4 + 16 * s + i, as: Int8.self)) * code(x, 16 * s + i)
                }
                isum += Int32(scaleByte(x, s) & 0xF) * isuml
            }
            let dall = y.q8KScale() * x.loadHalf(80)
            let dmin = y.q8KScale() * x.loadHalf(82)
            sumf += dall * Float(isum) - dmin * Float(summs)
        }
        return sumf
    }

    /// 8 lanes at a time, 16 (one sub-block: two 8-lane groups) per scale multiply.
    /// Weight 128h + 32j + 16i + 8k' + l (sub-block 8h + 2j + i) is the 2-bit field
    /// at bit 2j of byte 8(2i + k') + l of qs[32h …]. The integer sums are exact,
    /// so the result is bit-identical to the reference.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var summs: Int32 = 0
            for s in 0..<16 { summs += y.q8KBlockSum(s) * Int32(scaleByte(x, s) >> 4) }
            var acc = SIMD8<Int32>()
            for h in 0..<2 {
                for j in 0..<4 {
                    for i in 0..<2 {
                        var sub = SIMD8<Int32>()
                        for kk in 0..<2 {
                            let k = 2 * i + kk
                            let q = widen((load8(x, 16 + 32 * h + 8 * k) >> UInt64(2 * j)) & bytesOf(3))
                            sub &+= q &* loadInt8x8(y, 4 + 128 * h + 32 * j + 8 * k)
                        }
                        acc &+= Int32(scaleByte(x, 8 * h + 2 * j + i) & 0xF) &* sub
                    }
                }
            }
            let dall = y.q8KScale() * x.loadHalf(80)
            let dmin = y.q8KScale() * x.loadHalf(82)
            sumf += dall * Float(acc.wrappedSum()) - dmin * Float(summs)
        }
        return sumf
    }
}
