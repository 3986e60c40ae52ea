import _Builtin_intrinsics.intel
/// Q8_K: blocks of 256 values, 292 bytes each. The activation format of every
/// K-quant weight type (ggml never stores weights in it).
///
///     offset 0    d          float32  scale
///     offset 4    qs[256]    int8     value j = qs[j] · d
///     offset 260  bsums[16]  int16    bsums[g] = Σ qs[16g ..< 16g+16]
///
/// The group sums let the Q2_K/Q4_K/Q5_K dots apply their per-sub-block mins as
/// min · Σ activations without touching the activations again.
public enum Q8_KFormat: BlockFormat {
    public static var type: GGMLType { .q8_K }
    public static var activationType: GGMLType { .q8_K }
    @inline(__always) static var blockBytes: Int { 292 }  // computed: a static let costs a lazy-init check per use
    @inline(__always) static var dOffset: Int { 0 }
    @inline(__always) static var qsOffset: Int { 4 }
    @inline(__always) static var bsumsOffset: Int { 260 }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 256 {
            let block = src + b * blockBytes
            let d = block.loadUnaligned(fromByteOffset: dOffset, as: Float.self)
            for j in 0..<256 {
                dst[b * 256 + j] = d * Float(block.load(fromByteOffset: qsOffset + j, as: Int8.self))
            }
        }
    }

    /// ggml's `quantize_row_q8_K_ref`: the multiplier is -127/max with max the value of
    /// largest magnitude *with its sign*, so that value lands on -127 exactly;
    /// q = min(127, nearest_int(x · iscale)) (halves to even), d = 1/iscale.
    /// An all-zero block gets d = 0 and zero codes (ggml leaves its bsums unwritten;
    /// here they are written as the zeros they sum to).
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 256 {
            let x = src + b * 256
            let block = dst + b * blockBytes
            var amax: Float = 0, maxValue: Float = 0
            for j in 0..<256 where abs(x[j]) > amax { amax = abs(x[j]); maxValue = x[j] }
            if amax == 0 {
                block.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
                continue
            }
            let iscale = -127 / maxValue
            for j in 0..<256 {
                let q = min(127, nearestInt(iscale * x[j]))
                block.storeBytes(of: Int8(truncatingIfNeeded: q), toByteOffset: qsOffset + j, as: Int8.self)
            }
            for g in 0..<16 {
                var sum: Int32 = 0
                for i in 0..<16 { sum += Int32(block.load(fromByteOffset: qsOffset + 16 * g + i, as: Int8.self)) }
                block.storeBytes(of: Int16(truncatingIfNeeded: sum), toByteOffset: bsumsOffset + 2 * g, as: Int16.self)
            }
            block.storeBytes(of: 1 / iscale, toByteOffset: 0, as: Float.self)
        }
    }

    /// llama.cpp's x86 build quantizes Q8_K activations with the reference routine
    /// itself (ggml-cpu/arch/x86/quants.c: `quantize_row_q8_K` calls `quantize_row_q8_K_ref`),
    /// unlike Q8_0/Q8_1: `quantizeRow` is the plain loop of this, and
    /// `quantizeActivationRow` the same with SIMD, bit for bit.
    public static func quantizeActivationRowReference(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        quantizeRow(src: src, dst: dst, count: count)
    }

    /// `quantizeRow` with SIMD. The largest |x| is found on the bits (for finite floats
    /// integer order is magnitude order), its first occurrence gives the signed max; the
    /// codes are vcvtps2dq of iscale·x (ties to even, as `nearestInt` for |v| < 2^22),
    /// capped at 127 and packed; each 16 codes' sum by vpsadbw of the codes + 128.
    /// A block with an infinity or NaN goes to the plain loop.
    public static func quantizeActivationRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 256 {
            let x = src + b * 256, block = dst + b * blockBytes
            let p = UnsafeRawPointer(x)
            @inline(__always) func magnitudes(_ k: Int) -> __m256i {
                _mm256_and_si256(p.loadUnaligned(fromByteOffset: 32 * k, as: __m256i.self), _mm256_set1_epi32(0x7FFF_FFFF))
            }
            var m = magnitudes(0)
            for k in 1..<32 { m = _mm256_max_epi32(m, magnitudes(k)) }
            let lanes = unsafeBitCast(m, to: SIMD8<Int32>.self)
            let amaxBits = lanes.max()
            if amaxBits >= 0x7F80_0000 { quantizeRow(src: x, dst: block, count: 256); continue }
            if amaxBits == 0 { block.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes); continue }
            var first = 0
            for k in 0..<32 {
                let hits = _mm256_movemask_ps(unsafeBitCast(_mm256_cmpeq_epi32(magnitudes(k), _mm256_set1_epi32(amaxBits)), to: __m256.self))
                if hits != 0 { first = 8 * k + Int(hits.trailingZeroBitCount); break }
            }
            let iscale = -127 / x[first]
            let scale = SIMD8<Float>(repeating: iscale)
            @inline(__always) func codes(_ k: Int) -> __m256i {
                _mm256_min_epi32(_mm256_cvtps_epi32(unsafeBitCast(scale * p.loadUnaligned(fromByteOffset: 32 * k, as: SIMD8<Float>.self), to: __m256.self)),
                                 _mm256_set1_epi32(127))
            }
            for c in 0..<8 {
                let words = _mm256_packs_epi32(codes(4 * c), codes(4 * c + 1)), words2 = _mm256_packs_epi32(codes(4 * c + 2), codes(4 * c + 3))
                let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(words, words2), _mm256_set_epi32(7, 3, 6, 2, 5, 1, 4, 0))
                block.storeBytes(of: bytes, toByteOffset: qsOffset + 32 * c, as: __m256i.self)
                // Σ (c + 128) over each 8 bytes, then two eights a group of 16, less 16·128.
                let eights = unsafeBitCast(_mm256_sad_epu8(_mm256_xor_si256(bytes, _mm256_set1_epi8(-128)), _mm256_setzero_si256()),
                                           to: SIMD4<Int64>.self)
                block.storeBytes(of: Int16(truncatingIfNeeded: eights[0] + eights[1] - 2048), toByteOffset: bsumsOffset + 4 * c, as: Int16.self)
                block.storeBytes(of: Int16(truncatingIfNeeded: eights[2] + eights[3] - 2048), toByteOffset: bsumsOffset + 4 * c + 2, as: Int16.self)
            }
            block.storeBytes(of: 1 / iscale, toByteOffset: 0, as: Float.self)
        }
    }

    /// Q8_K · Q8_K. ggml has no such dot (Q8_K is never a weight type); this one is
    /// here so the format is complete: exact integer sum per block, then scaled.
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * blockBytes
            var sumi: Int32 = 0
            for j in 0..<256 {
                sumi += Int32(x.load(fromByteOffset: qsOffset + j, as: Int8.self)) * Int32(y.load(fromByteOffset: qsOffset + j, as: Int8.self))
            }
            sumf += Float(sumi) * (x.q8KScale() * y.q8KScale())
        }
        return sumf
    }

    /// The 256 products of a block in 8 Int32 lanes.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * blockBytes
            var acc = SIMD8<Int32>()
            for k in 0..<32 { acc &+= loadInt8x8(x, qsOffset + 8 * k) &* loadInt8x8(y, qsOffset + 8 * k) }
            sumf += Float(acc.wrappedSum()) * (x.q8KScale() * y.q8KScale())
        }
        return sumf
    }
}

extension UnsafeRawPointer {
    /// A Q8_K block's bsums[g] (`block` points at the block).
    @inline(__always)
    func q8KBlockSum(_ g: Int) -> Int32 {
        Int32(loadUnaligned(fromByteOffset: Q8_KFormat.bsumsOffset + 2 * g, as: Int16.self))
    }
    /// A Q8_K block's d.
    @inline(__always)
    func q8KScale() -> Float { loadUnaligned(fromByteOffset: Q8_KFormat.dOffset, as: Float.self) }
}
