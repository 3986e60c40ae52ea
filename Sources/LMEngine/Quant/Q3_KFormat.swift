import _Builtin_intrinsics.intel
/// Q3_K: super-blocks of 256 weights in 16 sub-blocks of 16, 110 bytes each.
///
///     offset 0    hmask[32]   uint8  3rd bits: bit m of hmask[l] belongs to weight 32m + l
///     offset 32   qs[64]      uint8  low 2 bits, four per byte (order as Q2_K)
///     offset 96   scales[12]  uint8  16 six-bit scales, stored +32 (see `scale`)
///     offset 108  d           fp16   scale of the scales
///
/// Bits 2j…2j+1 of qs[32h + l] are the low bits of weight 128h + 32j + l.
/// weight = d · (scale[s] - 32) · (low2 - (3rd bit set ? 0 : 4)), i.e. code - 4 with
/// code in 0…7. Dotted against Q8_K activations.
public enum Q3_KFormat: BlockFormat {
    public static var type: GGMLType { .q3_K }
    public static var activationType: GGMLType { .q8_K }
    @inline(__always) static var blockBytes: Int { 110 }  // computed: a static let costs a lazy-init check per use

    /// The signed code (-4…3) of weight e of a block.
    @inline(__always)
    static func code(_ block: UnsafeRawPointer, _ e: Int) -> Int32 {
        let h = e / 128, j = (e % 128) / 32, l = e % 32
        let low = (block.load(fromByteOffset: 32 + 32 * h + l, as: UInt8.self) >> UInt8(2 * j)) & 3
        let high = (block.load(fromByteOffset: l, as: UInt8.self) >> UInt8(e / 32)) & 1
        return Int32(low) - (high == 1 ? 0 : 4)
    }

    /// Sub-block s's scale (-32…31). Scale s keeps its low 4 bits in a nibble of
    /// bytes 0-7 (s < 8: low nibble of byte s, else high nibble of byte s-8) and its
    /// high 2 bits in byte 8 + s%4, at bit 2·(s/4).
    @inline(__always)
    static func scale(_ block: UnsafeRawPointer, _ s: Int) -> Int32 {
        let table = block + 96
        let lowByte = table.load(fromByteOffset: s % 8, as: UInt8.self)
        let low = s < 8 ? lowByte & 0xF : lowByte >> 4
        let high = (table.load(fromByteOffset: 8 + s % 4, as: UInt8.self) >> UInt8(2 * (s / 4))) & 3
        return Int32(low | high << 4) - 32
    }

    /// ggml's `dequantize_row_q3_K`.
    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 256 {
            let block = src + b * blockBytes
            let d = block.loadHalf(108)
            for s in 0..<16 {
                let dl = d * Float(scale(block, s))
                for i in 0..<16 { dst[b * 256 + 16 * s + i] = dl * Float(code(block, 16 * s + i)) }
            }
        }
    }

    /// ggml's `quantize_row_q3_K_ref`: per sub-block of 16 a symmetric search
    /// (`makeQ3Quants`, 4 levels each side, weights x²); the 16 scales quantized to
    /// 6 bits against d = (scale of largest magnitude, signed) / -32; then every
    /// code redone against its quantized scale.
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        var codes = [Int8](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 16)
        codes.withUnsafeMutableBufferPointer { codes in
            let L = codes.baseAddress!
            for b in 0..<count / 256 {
                let x = src + b * 256
                let block = dst + b * blockBytes
                var maxScale: Float = 0, amax: Float = 0
                for s in 0..<16 {
                    scales[s] = makeQ3Quants(n: 16, nmax: 4, x: x + 16 * s, L: L + 16 * s)
                    if abs(scales[s]) > amax { amax = abs(scales[s]); maxScale = scales[s] }
                }
                var table = [UInt8](repeating: 0, count: 12)
                if maxScale != 0 {
                    let iscale = -32 / maxScale
                    for s in 0..<16 {
                        // int8_t l = nearest_int(…): a byte first, then clamped and offset.
                        var l = Int(Int8(truncatingIfNeeded: nearestInt(iscale * scales[s])))
                        l = max(-32, min(31, l)) + 32
                        if s < 8 { table[s] = UInt8(l & 0xF) } else { table[s - 8] |= UInt8(l & 0xF) << 4 }
                        table[8 + s % 4] |= UInt8(l >> 4) << UInt8(2 * (s / 4))
                    }
                    block.storeHalf(1 / iscale, 108)
                } else {
                    block.storeHalf(0, 108)
                }
                for k in 0..<12 { block.storeBytes(of: table[k], toByteOffset: 96 + k, as: UInt8.self) }
                let dAll = UnsafeRawPointer(block).loadHalf(108)
                for s in 0..<16 {
                    let d = dAll * Float(scale(UnsafeRawPointer(block), s))
                    if d == 0 { continue }   // keep the search's codes, as ggml does
                    for i in 0..<16 {
                        L[16 * s + i] = Int8(max(-4, min(3, nearestInt(x[16 * s + i] / d))) + 4)
                    }
                }
                // 3rd bits into hmask (weight e → bit e/32 of byte e%32), the rest into qs.
                for l in 0..<32 {
                    var hm: UInt8 = 0
                    for m in 0..<8 where L[32 * m + l] > 3 {
                        hm |= 1 << UInt8(m)
                        L[32 * m + l] -= 4
                    }
                    block.storeBytes(of: hm, toByteOffset: l, as: UInt8.self)
                }
                for h in 0..<2 {
                    for l in 0..<32 {
                        let e = 128 * h + l
                        let q = UInt8(L[e]) | UInt8(L[e + 32]) << 2 | UInt8(L[e + 64]) << 4 | UInt8(L[e + 96]) << 6
                        block.storeBytes(of: q, toByteOffset: 32 + 32 * h + l, as: UInt8.self)
                    }
                }
            }
        }
    }

    /// ggml_vec_dot_q3_K_q8_K (generic): per super-block 8 Int32 lanes (lane l takes
    /// the elements ≡ l mod 8) of scale·code·activation, scaled into 8 float lanes,
    /// summed at the end.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sums = [Float](repeating: 0, count: 8)
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var aux32 = [Int32](repeating: 0, count: 8)
            for e in 0..<256 {
                let q8 = Int32(y.load(fromByteOffset: 4 + e, as: Int8.self))
                aux32[e % 8] += scale(x, e / 16) * (q8 * code(x, e))
            }
            let d = x.loadHalf(108) * y.q8KScale()
            for l in 0..<8 { sums[l] += d * Float(aux32[l]) }
        }
        var sumf: Float = 0
        for l in 0..<8 { sumf += sums[l] }
        return sumf
    }

    /// 8 lanes at a time, 16 (one sub-block: two 8-lane groups) per scale multiply.
    /// Weight 128h + 32j + 16i + 8k' + l (sub-block 8h + 2j + i): low 2 bits at bit 2j
    /// of byte 8(2i + k') + l of qs[32h …], 3rd bit at bit 4h + j of hmask byte
    /// 8(2i + k') + l. Bit-identical to the reference.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sums = SIMD8<Float>()
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var acc = SIMD8<Int32>()
            for h in 0..<2 {
                for j in 0..<4 {
                    for i in 0..<2 {
                        var sub = SIMD8<Int32>()
                        for kk in 0..<2 {
                            let k = 2 * i + kk
                            // code + 4 = low 2 bits | 3rd bit · 4, in 0…7
                            let low = (load8(x, 32 + 32 * h + 8 * k) >> UInt64(2 * j)) & bytesOf(3)
                            let high = (load8(x, 8 * k) >> UInt64(4 * h + j)) & bytesOf(1)
                            sub &+= (widen(low | high << 2) &- 4) &* loadInt8x8(y, 4 + 128 * h + 32 * j + 8 * k)
                        }
                        acc &+= scale(x, 8 * h + 2 * j + i) &* sub
                    }
                }
            }
            let d = x.loadHalf(108) * y.q8KScale()
            sums += d * floats8(unsafeBitCast(acc, to: __m256i.self))
        }
        return addLanes(0, sums)
    }
}
