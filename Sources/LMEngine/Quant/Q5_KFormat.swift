import _Builtin_intrinsics.intel
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

    /// ggml_vec_dot_q5_K_q8_K (generic); the same scheme as Q4_K's.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sums = [Float](repeating: 0, count: 8)
        var sumf: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            var aux32 = [Int32](repeating: 0, count: 8)
            var summs: Int32 = 0
            for g in 0..<16 { summs += y.q8KBlockSum(g) * scaleMinK4(g / 2, x + 4).min }
            for e in 0..<256 {
                let q8 = Int32(y.load(fromByteOffset: 4 + e, as: Int8.self))
                aux32[e % 8] += scaleMinK4(e / 32, x + 4).scale * (q8 * code(x, e))
            }
            let d = x.loadHalf(0) * y.q8KScale()
            for l in 0..<8 { sums[l] += d * Float(aux32[l]) }
            let dmin = x.loadHalf(2) * y.q8KScale()
            sumf -= dmin * Float(summs)
        }
        for l in 0..<8 { sumf += sums[l] }
        return sumf
    }

    /// As Q4_K's fast dot; the 5th bits of 8 weights come from 8 qh bytes shifted by
    /// the sub-block index.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sums = SIMD8<Float>()
        var sumf: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * Q8_KFormat.blockBytes
            let (scales, mins) = scalesMinsK4(x + 4)
            let summs = minSums(y, mins)
            var acc = SIMD8<Int32>()
            for c in 0..<4 {
                var lo = SIMD8<Int32>(), hi = SIMD8<Int32>()
                for k in 0..<4 {
                    let q = load8(x, 48 + 32 * c + 8 * k), qh = load8(x, 16 + 8 * k)
                    let h0 = ((qh >> UInt64(2 * c)) & bytesOf(1)) << 4, h1 = ((qh >> UInt64(2 * c + 1)) & bytesOf(1)) << 4
                    lo &+= widen((q & bytesOf(0x0F)) | h0) &* loadInt8x8(y, 4 + 64 * c + 8 * k)
                    hi &+= widen(((q >> 4) & bytesOf(0x0F)) | h1) &* loadInt8x8(y, 4 + 64 * c + 32 + 8 * k)
                }
                acc &+= byte(scales, 2 * c) &* lo &+ byte(scales, 2 * c + 1) &* hi
            }
            let d = x.loadHalf(0) * y.q8KScale()
            sums += d * floats8(unsafeBitCast(acc, to: __m256i.self))
            let dmin = x.loadHalf(2) * y.q8KScale()
            sumf -= dmin * Float(summs)
        }
        return addLanes(sumf, sums)
    }
}
