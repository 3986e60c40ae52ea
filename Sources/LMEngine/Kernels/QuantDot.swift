import LMKernelsVNNI
import _Builtin_intrinsics.intel
/// The integer block dot: Σ w_i·a_i for a row of 32-element blocks (Q4_0, Q4_1, Q5_0,
/// Q5_1, Q8_0 weights) against a row of 8-bit activations (Q8_0, or Q8_1 for the
/// formats with a minimum), in llama.cpp's float order so lmlab's logits are llama.cpp's
/// to the bit.
///
/// Block b of the weight row holds a scale d_w and 32 small integers q_j with
/// w_j = d_w·q_j (+ m_w for Q4_1/Q5_1); block b of the activation row holds d_a and 32
/// int8 codes c_j with a_j = d_a·c_j (and, in Q8_1, s_a = d_a·Σ c_j). So per block
///     Σ_j w_j·a_j = d_w·d_a · Σ_j q_j·c_j  (+ m_w·s_a),
/// an exact integer sum scaled once. Q4_0, for example: byte j of the block's 16 code
/// bytes holds element j in its low nibble and element j+16 in its high one, and
/// q_j = nibble − 8 (`Q4_0Format.integer`).
///
/// The order of llama.cpp's x86 build (AVX2/AVX-512 `ggml_vec_dot_q*_q8_*`, and tinyBLAS
/// for prefill): each block's 32 products are summed in 8 groups of 4 consecutive
/// elements, group g going to float lane g as lane = fma(d_w·d_a, group, lane); after the
/// last block the 8 lanes are added pairwise (`hsum8`), then Σ m_w·s_a (accumulated with
/// fused multiply-adds) is added. `blockDotReference` is that, as a plain loop; the SIMD
/// kernels below and the tiled matmul compute the same expression and are bit-identical
/// to it (QuantFormatTests, KernelTiledMatMulTests).
func blockDotReference<F: IntBlockDot>(_ format: F.Type, _ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
    var lanes = SIMD8<Float>()           // 8 float accumulators, lane g for group g of every block
    var minimumSum: Float = 0            // Σ m_w·s_a (formats with a minimum)
    for b in 0..<count / 32 {
        let wb = w + b * F.blockBytes, ab = a + b * F.activationBlockBytes
        let d = wb.loadHalf(F.scaleOffset) * ab.loadHalf(F.activationScaleOffset)
        for g in 0..<8 {
            var group: Int32 = 0         // exact: |4 · 128 · 128| fits easily
            for j in (4 * g)..<(4 * g + 4) {
                let c = Int32(ab.load(fromByteOffset: F.activationCodesOffset + j, as: Int8.self))
                group += F.integer(wb, element: j) * c
            }
            lanes[g] = lanes[g].addingProduct(d, Float(group))   // fused, as _mm256_fmadd_ps
        }
        if let minimumOffset = F.minimumOffset {
            // GCC contracts llama.cpp's `summs += m*s` to an fma.
            minimumSum = minimumSum.addingProduct(wb.loadHalf(minimumOffset), ab.loadHalf(Q8_1Format.sumOffset))
        }
    }
    let sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]))
    return F.minimumOffset == nil ? sum : sum + minimumSum
}

/// The order of llama.cpp's repacked kernels (Q4_0 on x86 when the matrix has a multiple
/// of 8 rows: `ggml_gemv_q4_0_8x8_q8_0` for one token, `ggml_gemm_q4_0_8x8_q8_0` for four,
/// which agree): each block's exact integer sum Σ q_j·c_j goes to float and is added as
/// acc = fma(Σ, d_w·d_a, acc), block after block, one float chain with no lanes.
func repackedDotReference<F: IntBlockDot>(_ format: F.Type, _ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
    var acc: Float = 0
    for b in 0..<count / 32 {
        let wb = w + b * F.blockBytes, ab = a + b * F.activationBlockBytes
        var sum: Int32 = 0                // exact: |32 · 128 · 128| < 2^19
        for j in 0..<32 {
            sum += F.integer(wb, element: j) * Int32(ab.load(fromByteOffset: F.activationCodesOffset + j, as: Int8.self))
        }
        acc = acc.addingProduct(Float(sum), wb.loadHalf(F.scaleOffset) * ab.loadHalf(F.activationScaleOffset))
    }
    return acc
}

/// A 32-element integer block format, as the dots see it. Each conformance lives in
/// the format's own file: its layout constants, `integer` for the plain loop, and
/// `codeBytes` for the SIMD kernels.
/// Its matmul kernel (`MatmulKernel`) is the tiled one in MatMul.swift.
protocol IntBlockDot: MatmulKernel {
    /// Bytes per block, and the offset of its fp16 scale d.
    static var blockBytes: Int { get }
    static var scaleOffset: Int { get }
    /// The offset of the fp16 minimum m, for the formats that have one (dotted against
    /// Q8_1); nil for the others (dotted against Q8_0).
    static var minimumOffset: Int? { get }
    /// q_j of the block at `block`: the integer whose product with d (plus m) is weight j.
    static func integer(_ block: UnsafeRawPointer, element j: Int) -> Int32
    /// All 32 q_j as bytes in element order (byte j = q_j): the SIMD kernels' unpacking,
    /// done once per weight block and reused across activation rows. Signed bytes unless
    /// `unsignedCodes`.
    static func codeBytes(_ block: UnsafeRawPointer) -> __m256i
    /// true when q_j ≥ 0 (Q4_1, Q5_1: 0…15, 0…31), so `codeBytes` can go to vpmaddubsw
    /// as they are; the signed formats take the sign trick (`groupSums`).
    static var unsignedCodes: Bool { get }
    /// Whether llama.cpp repacks a matrix of this format with `weightRows` rows at load,
    /// and so sums it in `repackedDotReference`'s order.
    static func repacked(weightRows: Int) -> Bool
    /// For a format whose q_j = u_j − offset with unsigned bytes u_j (Q4_0: nibble − 8):
    /// the offset, and `unsignedCodeBytes` gives the u_j. Then Σ q_j·c_j = Σ u_j·c_j −
    /// offset·Σ c_j goes to vpmaddubsw without the sign trick, and offset·Σ c_j is taken
    /// once per activation block for many weight rows. nil for the other formats.
    static var codeOffset: Int32? { get }
    static func unsignedCodeBytes(_ block: UnsafeRawPointer) -> __m256i
}

/// The activation side follows from whether the weight has a minimum: Q8_1 (scale, sum
/// s, 32 codes) for Q4_1/Q5_1, Q8_0 (scale, 32 codes) for the others. Constants per
/// format: the compiler folds them in each specialized kernel.
extension IntBlockDot {
    @inline(__always) static var hasMinimum: Bool { minimumOffset != nil }
    @inline(__always) static var activationBlockBytes: Int { hasMinimum ? Q8_1Format.blockBytes : Q8_0Format.blockBytes }
    @inline(__always) static var activationScaleOffset: Int { hasMinimum ? Q8_1Format.scaleOffset : Q8_0Format.scaleOffset }
    @inline(__always) static var activationCodesOffset: Int { hasMinimum ? Q8_1Format.codesOffset : Q8_0Format.codesOffset }
    @inline(__always) static var unsignedCodes: Bool { false }
    static func repacked(weightRows: Int) -> Bool { false }
    @inline(__always) static var codeOffset: Int32? { nil }
    @inline(__always) static func unsignedCodeBytes(_ block: UnsafeRawPointer) -> __m256i { codeBytes(block) }
    /// The format's kernels in LMKernelsVNNI.
    static var vnniFormat: VNNIFormat? {
        switch type {
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q5_0: .q5_0
        case .q5_1: .q5_1
        case .q8_0: .q8_0
        default: nil
        }
    }
}

// MARK: - The SIMD kernels
//
// How the integer sum is shaped: vpmaddubsw multiplies 32 unsigned bytes by 32 signed
// bytes and adds neighbouring products into 16 Int16 lanes; vpmaddwd by ones adds
// neighbouring Int16 lanes into 8 Int32 lanes. So Int32 lane g is the exact Σ of
// elements 4g…4g+3 — the reference's group g. Signed weight codes go through the sign
// trick, |q|·(c·sign q) = q·c. Nothing saturates: a pair is at most 2·128·127 < 2^15
// (activation codes are within ±127, 8-bit weights within −128…127).

extension IntBlockDot {
    /// Lane g = the exact Σ q_j·c_j over elements 4g…4g+3, for a block's `codeBytes` and
    /// 32 activation codes.
    @inline(__always)
    static func groupSums(_ codes: __m256i, _ activations: __m256i) -> __m256i {
        groupSums(codes, magnitudes: magnitudes(codes), activations)
    }

    /// `groupSums` with the block's `magnitudes(codes)` taken once for several activation rows.
    @inline(__always)
    static func groupSums(_ codes: __m256i, magnitudes: __m256i, _ activations: __m256i) -> __m256i {
        let pairs = _mm256_maddubs_epi16(magnitudes, unsignedCodes ? activations : _mm256_sign_epi8(activations, codes))
        return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1))
    }

    /// For a `codeOffset` format: lane g = the exact Σ u_j·c_j over elements 4g…4g+3 of
    /// its `unsignedCodeBytes` (no sign trick); Σ q_j·c_j is that less `offsetSum`.
    @inline(__always)
    static func unsignedSums(_ codes: __m256i, _ activations: __m256i) -> __m256i {
        _mm256_madd_epi16(_mm256_maddubs_epi16(codes, activations), _mm256_set1_epi16(1))
    }

    /// offset·Σ c_j over an activation block's 32 codes, exact (vpmaddubsw of the bytes
    /// `offset` and the codes, then the lanes added). Only for a format with a
    /// `codeOffset`: the repacked kernels, which run for Q4_0 alone.
    @inline(__always)
    static func offsetSum(_ activations: __m256i) -> Int32 {
        integerSum(unsignedSums(_mm256_set1_epi8(Int8(codeOffset!)), activations))
    }

    /// |q_j| as unsigned bytes for vpmaddubsw (the codes themselves when unsigned).
    @inline(__always)
    static func magnitudes(_ codes: __m256i) -> __m256i { unsignedCodes ? codes : _mm256_sign_epi8(codes, codes) }

    /// `blockDotReference` with SIMD: one row against one activation row. Each block's
    /// 8 Int32 group sums go to float and are scaled into 8 running float lanes with an
    /// fma; the lanes are added once at the end.
    @inline(__always)
    static func dotRowLanes(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var summs: Float = 0
        var x = w, y = a
        for _ in 0..<count / 32 {
            laneBlock(x, y, y.loadUnaligned(fromByteOffset: activationCodesOffset, as: __m256i.self), &acc, &summs)
            x += blockBytes; y += activationBlockBytes
        }
        return hasMinimum ? hsum8(acc) + summs : hsum8(acc)
    }

    /// One block of `dotRowLanes`: weight block x against activation block y (its codes c
    /// loaded), into the 8 lanes and the minimum sum.
    @inline(__always)
    static func laneBlock(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ c: __m256i, _ acc: inout SIMD8<Float>, _ summs: inout Float) {
        let halves = HalfTable.floats
        let scale = HalfTable.at(x, scaleOffset, halves) * HalfTable.at(y, activationScaleOffset, halves)
        acc = acc.addingProduct(floats8(groupSums(codeBytes(x), c)), SIMD8<Float>(repeating: scale))
        if let minimumOffset {
            summs = summs.addingProduct(HalfTable.at(x, minimumOffset, halves), HalfTable.at(y, Q8_1Format.sumOffset, halves))
        }
    }

    /// `dotRowLanes` for two weight rows (w and w + rowBytes) against one activation row:
    /// the two rows' chains of fmas side by side, each activation block loaded once.
    @inline(__always)
    static func dotRowLanesRows2(_ w: UnsafeRawPointer, rowBytes: Int, _ a: UnsafeRawPointer, count: Int) -> (Float, Float) {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var summs0: Float = 0, summs1: Float = 0
        var x = w, y = a
        for _ in 0..<count / 32 {
            let c = y.loadUnaligned(fromByteOffset: activationCodesOffset, as: __m256i.self)
            // Q8_0 only (an output head's rows): hints for the 4-bit formats' short rows
            // made SmolLM2 Q4_1 slower (LMKernelsVNNI's Prefetch.swift).
            if blockBytes >= 32 { prefetch(x + prefetchAhead, bytes: 1); prefetch(x + rowBytes + prefetchAhead, bytes: 1) }
            laneBlock(x, y, c, &acc0, &summs0)
            laneBlock(x + rowBytes, y, c, &acc1, &summs1)
            x += blockBytes; y += activationBlockBytes
        }
        return hasMinimum ? (hsum8(acc0) + summs0, hsum8(acc1) + summs1) : (hsum8(acc0), hsum8(acc1))
    }

    /// One weight row against four activation rows (`rows`, quantized): lane i =
    /// dotRowLanes(w, a_i), with each weight block unpacked once for the four (and, for
    /// the signed formats, its magnitudes taken once). `scales`: the four rows' scales
    /// per block as `splitActivationScales` writes them.
    @inline(__always)
    static func dotTokens4(_ w: UnsafeRawPointer, scales: UnsafeRawPointer, rows: BlockPointers4, count: Int) -> SIMD4<Float> {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        var summs = SIMD4<Float>()
        var x = w, y = rows, sc = scales
        let halves = HalfTable.floats
        for _ in 0..<count / 32 {
            let codes = codeBytes(x), m = magnitudes(codes)
            @inline(__always) func sums(_ p: UnsafeRawPointer) -> SIMD8<Float> {
                floats8(groupSums(codes, magnitudes: m, p.loadUnaligned(fromByteOffset: activationCodesOffset, as: __m256i.self)))
            }
            let dw = HalfTable.at(x, scaleOffset, halves)
            let scales = SIMD4<Float>(repeating: dw) * sc.loadUnaligned(as: SIMD4<Float>.self)
            acc0 = acc0.addingProduct(sums(y.p0), SIMD8<Float>(repeating: scales[0]))
            acc1 = acc1.addingProduct(sums(y.p1), SIMD8<Float>(repeating: scales[1]))
            acc2 = acc2.addingProduct(sums(y.p2), SIMD8<Float>(repeating: scales[2]))
            acc3 = acc3.addingProduct(sums(y.p3), SIMD8<Float>(repeating: scales[3]))
            if let minimumOffset {
                summs = summs.addingProduct(SIMD4<Float>(repeating: HalfTable.at(x, minimumOffset, halves)),
                                            sc.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self))
            }
            x += blockBytes; y = y.advanced(by: activationBlockBytes); sc += 32
        }
        let sums = SIMD4<Float>(hsum8(acc0), hsum8(acc1), hsum8(acc2), hsum8(acc3))
        return hasMinimum ? sums + summs : sums
    }

    /// `repackedDotReference` with SIMD: each block's group sums added up as integers (exact,
    /// so in any order: four blocks at a time by three `vphaddd` and a 128-bit add), then
    /// the blocks' fmas one after another.
    @inline(__always)
    static func repackedDot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc: Float = 0
        var x = w, y = a
        let halves = HalfTable.floats
        @inline(__always) func sums(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer) -> __m256i {
            groupSums(codeBytes(x), y.loadUnaligned(fromByteOffset: activationCodesOffset, as: __m256i.self))
        }
        @inline(__always) func scale(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer) -> Float {
            HalfTable.at(x, scaleOffset, halves) * HalfTable.at(y, activationScaleOffset, halves)
        }
        let blocks = count / 32
        var b = 0
        while b + 4 <= blocks {
            let wb = blockBytes, ab = activationBlockBytes
            let t = integerSums4(sums(x, y), sums(x + wb, y + ab), sums(x + 2 * wb, y + 2 * ab), sums(x + 3 * wb, y + 3 * ab))
            acc = acc.addingProduct(t[0], scale(x, y))
            acc = acc.addingProduct(t[1], scale(x + wb, y + ab))
            acc = acc.addingProduct(t[2], scale(x + 2 * wb, y + 2 * ab))
            acc = acc.addingProduct(t[3], scale(x + 3 * wb, y + 3 * ab))
            x += 4 * wb; y += 4 * ab; b += 4
        }
        while b < blocks {
            acc = acc.addingProduct(Float(integerSum(sums(x, y))), scale(x, y))
            x += blockBytes; y += activationBlockBytes; b += 1
        }
        return acc
    }

    /// `repackedDot` for four activation rows at once, each weight block unpacked once (and
    /// its magnitudes taken once); the four blocks' 8 group sums are added across by three
    /// `vphaddd` and one 128-bit add, exact in any order, so one fma serves the four tokens.
    @inline(__always)
    static func repackedDotTokens4(_ w: UnsafeRawPointer, scales: UnsafeRawPointer, rows: BlockPointers4, count: Int) -> SIMD4<Float> {
        var acc = SIMD4<Float>()
        var x = w, y = rows, sc = scales
        for _ in 0..<count / 32 {
            acc = repackedBlockTokens4(x, scales: sc, rows: y, acc)
            x += blockBytes; y = y.advanced(by: activationBlockBytes); sc += 32
        }
        return acc
    }

    /// `repackedDotTokens4` for two weight rows (w and w + rowBytes) at once: two fma chains
    /// side by side, so neither waits on the other's latency.
    @inline(__always)
    static func repackedDotTokens4Rows2(_ w: UnsafeRawPointer, rowBytes: Int, scales: UnsafeRawPointer, rows: BlockPointers4,
                                        count: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        var acc0 = SIMD4<Float>(), acc1 = SIMD4<Float>()
        var x = w, y = rows, sc = scales
        for _ in 0..<count / 32 {
            acc0 = repackedBlockTokens4(x, scales: sc, rows: y, acc0)
            acc1 = repackedBlockTokens4(x + rowBytes, scales: sc, rows: y, acc1)
            x += blockBytes; y = y.advanced(by: activationBlockBytes); sc += 32
        }
        return (acc0, acc1)
    }

    /// One block of `repackedDotTokens4`: acc + (the block's four exact integer sums) ·
    /// d_w·d_a, fused, token k in lane k.
    @inline(__always)
    static func repackedBlockTokens4(_ x: UnsafeRawPointer, scales sc: UnsafeRawPointer, rows y: BlockPointers4,
                                     _ acc: SIMD4<Float>) -> SIMD4<Float> {
        let scales = SIMD4<Float>(repeating: HalfTable.at(x, scaleOffset, HalfTable.floats)) * sc.loadUnaligned(as: SIMD4<Float>.self)
        // Unsigned codes straight to vpmaddubsw; the four tokens' offset·Σc
        // (`splitActivationScales`) subtracted from the exact integer sums.
        let codes = unsignedCodeBytes(x)
        @inline(__always) func sums(_ p: UnsafeRawPointer) -> __m256i {
            unsignedSums(codes, p.loadUnaligned(fromByteOffset: activationCodesOffset, as: __m256i.self))
        }
        let total = integerTotals4(sums(y.p0), sums(y.p1), sums(y.p2), sums(y.p3)) &- sc.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
        return acc.addingProduct(floats4(total), scales)
    }

    /// `repackedDot` for eight weight rows at once (row r at `w + r·rowBytes`) against one
    /// activation row: lane r = repackedDot(row r). The eight rows' fma chains run side by
    /// side in one vector, as in llama.cpp's q4_0_8x8 gemv; each block's eight integer
    /// sums are added across by six `vphaddd` and one 128-bit add (`rowSums8`), and the
    /// activation block is loaded once for the eight rows.
    @inline(__always)
    static func repackedDotRows8(_ w: UnsafeRawPointer, rowBytes rb: Int, _ a: UnsafeRawPointer, count: Int) -> SIMD8<Float> {
        var acc = SIMD8<Float>()
        var x = w, y = a
        let halves = HalfTable.floats
        for _ in 0..<count / 32 {
            let c = y.loadUnaligned(fromByteOffset: activationCodesOffset, as: __m256i.self)
            @inline(__always) func sums(_ p: UnsafeRawPointer) -> __m256i { unsignedSums(unsignedCodeBytes(p), c) }
            let total = rowSums8(sums(x), sums(x + rb), sums(x + 2 * rb), sums(x + 3 * rb),
                                 sums(x + 4 * rb), sums(x + 5 * rb), sums(x + 6 * rb), sums(x + 7 * rb))
                &- SIMD8<Int32>(repeating: offsetSum(c))
            let scales = halves8(x, rowBytes: rb, scaleOffset) * SIMD8<Float>(repeating: HalfTable.at(y, activationScaleOffset, halves))
            acc = acc.addingProduct(floats8(total), scales)
            x += blockBytes; y += activationBlockBytes
        }
        return acc
    }

    /// Writes four activation rows' fp16 scales as floats, 32 bytes a block: (d_0…d_3) and,
    /// for Q8_1, (s_0…s_3) — decoded once per matmul instead of once per weight row; for a
    /// format with a `codeOffset`, instead of the s, the four rows' offset·Σ c_j as Int32.
    static func splitActivationScales(_ a: BlockPointers4, into scales: UnsafeMutableRawPointer, count: Int) {
        var y = a
        for b in 0..<count / 32 {
            scales.storeBytes(of: y.halves(activationScaleOffset), toByteOffset: 32 * b, as: SIMD4<Float>.self)
            if codeOffset != nil {
                @inline(__always) func sum(_ p: UnsafeRawPointer) -> Int32 {
                    offsetSum(p.loadUnaligned(fromByteOffset: activationCodesOffset, as: __m256i.self))
                }
                scales.storeBytes(of: SIMD4<Int32>(sum(y.p0), sum(y.p1), sum(y.p2), sum(y.p3)),
                                  toByteOffset: 32 * b + 16, as: SIMD4<Int32>.self)
            } else {
                scales.storeBytes(of: hasMinimum ? y.halves(Q8_1Format.sumOffset) : SIMD4<Float>(),
                                  toByteOffset: 32 * b + 16, as: SIMD4<Float>.self)
            }
            y = y.advanced(by: activationBlockBytes)
        }
    }
}

/// The 8 Int32 lanes of each of a, b, c, d added up, as floats: three `vphaddd` and one
/// 128-bit add (exact, so in any order).
@inline(__always)
func integerSums4(_ a: __m256i, _ b: __m256i, _ c: __m256i, _ d: __m256i) -> SIMD4<Float> {
    floats4(integerTotals4(a, b, c, d))
}

/// `integerSums4` before the conversion to float.
@inline(__always)
func integerTotals4(_ a: __m256i, _ b: __m256i, _ c: __m256i, _ d: __m256i) -> SIMD4<Int32> {
    let lanes = unsafeBitCast(_mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d)), to: SIMD8<Int32>.self)
    return lanes.lowHalf &+ lanes.highHalf
}

/// Lane r = the 8 Int32 lanes of s_r added up (exact): six `vphaddd`, then each
/// 128-bit half's four partial sums added to the other's.
@inline(__always)
func rowSums8(_ s0: __m256i, _ s1: __m256i, _ s2: __m256i, _ s3: __m256i,
              _ s4: __m256i, _ s5: __m256i, _ s6: __m256i, _ s7: __m256i) -> SIMD8<Int32> {
    // [s0 s1 s2 s3 partial sums of lanes 0…3 | the same of lanes 4…7], likewise s4…s7
    let low = unsafeBitCast(_mm256_hadd_epi32(_mm256_hadd_epi32(s0, s1), _mm256_hadd_epi32(s2, s3)), to: SIMD8<Int32>.self)
    let high = unsafeBitCast(_mm256_hadd_epi32(_mm256_hadd_epi32(s4, s5), _mm256_hadd_epi32(s6, s7)), to: SIMD8<Int32>.self)
    return SIMD8(lowHalf: low.lowHalf, highHalf: high.lowHalf) &+ SIMD8(lowHalf: low.highHalf, highHalf: high.highHalf)
}

/// The 8 Int32 lanes of v added up.
@inline(__always)
func integerSum(_ v: __m256i) -> Int32 {
    let lanes = unsafeBitCast(v, to: SIMD8<Int32>.self)
    let four = lanes.lowHalf &+ lanes.highHalf
    return (four[0] &+ four[2]) &+ (four[1] &+ four[3])
}

/// 32 codes in element order from 16 bytes of nibbles (byte j: element j in the low
/// nibble, element j+16 in the high one), each 0…15.
@inline(__always)
func nibbleBytes(_ p: UnsafeRawPointer) -> __m256i {
    let q = p.loadUnaligned(as: __m128i.self)
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F))
}

/// 16 in byte j where bit j of `qh` is set, else 0: the fifth bit of Q5 codes. Byte j
/// takes byte j/8 of qh (vpshufb of the broadcast word) and keeps bit j%8; comparing
/// with that bit gives 0xFF or 0.
@inline(__always)
func fifthBitBytes(_ qh: UInt32) -> __m256i {
    let spread = _mm256_shuffle_epi8(_mm256_set1_epi32(Int32(bitPattern: qh)),
                                     _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202,
                                                       0x0101_0101_0101_0101, 0))
    let bit = _mm256_set1_epi64x(Int64(bitPattern: 0x8040_2010_0804_0201))
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(16))
}

// MARK: - Helpers of the SIMD kernels

/// Every fp16 value as fp32, indexed by its bits (256 KiB, stays in L2): four
/// table loads per block are cheaper than converting the scales arithmetically.
enum HalfTable {
    static let floats: UnsafePointer<Float> = {
        let t = UnsafeMutablePointer<Float>.allocate(capacity: 65536)
        for i in 0..<65536 { t[i] = halfToFloat(UInt16(i)) }
        return UnsafePointer(t)
    }()
    @inline(__always) static func at(_ p: UnsafeRawPointer, _ offset: Int, _ table: UnsafePointer<Float>) -> Float {
        table[Int(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))]
    }
}

/// The fp16 at `offset` of eight rows `rowBytes` apart (row r at x + r·rowBytes), as
/// floats: one vcvtph2ps, exact like `halfToFloat`. (All eight lanes are set, so none
/// inherits a live register, the trap `halfBitsToFloat` avoids.)
@inline(__always)
func halves8(_ x: UnsafeRawPointer, rowBytes rb: Int, _ offset: Int) -> SIMD8<Float> {
    @inline(__always) func bits(_ r: Int) -> Int16 { x.loadUnaligned(fromByteOffset: r * rb + offset, as: Int16.self) }
    return unsafeBitCast(_mm256_cvtph_ps(_mm_set_epi16(bits(7), bits(6), bits(5), bits(4), bits(3), bits(2), bits(1), bits(0))),
                         to: SIMD8<Float>.self)
}

/// Four block addresses (one per lane of a tile).
struct BlockPointers4 {
    var p0, p1, p2, p3: UnsafeRawPointer
    @inline(__always) init(_ p0: UnsafeRawPointer, _ p1: UnsafeRawPointer, _ p2: UnsafeRawPointer, _ p3: UnsafeRawPointer) {
        self.p0 = p0; self.p1 = p1; self.p2 = p2; self.p3 = p3
    }
    @inline(__always) func advanced(by n: Int) -> BlockPointers4 { BlockPointers4(p0 + n, p1 + n, p2 + n, p3 + n) }
    /// The fp16 at `offset` of each block as floats (exact, like halfToFloat).
    @inline(__always) func halves(_ offset: Int) -> SIMD4<Float> {
        halfBitsToFloat(SIMD4<UInt32>(UInt32(p0.loadUnaligned(fromByteOffset: offset, as: UInt16.self)),
                                      UInt32(p1.loadUnaligned(fromByteOffset: offset, as: UInt16.self)),
                                      UInt32(p2.loadUnaligned(fromByteOffset: offset, as: UInt16.self)),
                                      UInt32(p3.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }
}

/// fp16 bits (in the low 16 bits of each lane) → fp32, exact for every input like
/// `halfToFloat`, in integer and float SIMD arithmetic only.
///
/// Not F16C's `vcvtph2ps` (`Float(Float16)`): LLVM loads the half with `vpinsrw` into
/// whatever register it likes for the unused lanes, often the running sum, which chains
/// every block behind the previous one (BENCHMARKS.md, kernel notes).
/// Here: finite values are the bits shifted into an fp32's place, scaled by 2^112
/// (rebiasing the exponent; subnormals come out right too), sign from the multiplier;
/// inf/NaN lanes are patched in.
@inline(__always)
public func halfBitsToFloat(_ h: SIMD4<UInt32>) -> SIMD4<Float> {
    let em = h & 0x7FFF
    let sign = (h & 0x8000) &<< 16
    let scaled = unsafeBitCast(em &<< 13, to: SIMD4<Float>.self) * unsafeBitCast(sign | 0x7780_0000, to: SIMD4<Float>.self)
    let special = sign | 0x7F80_0000 | ((em & 0x3FF) &<< 13)
    return unsafeBitCast(select(lanesBelow(em, 0x7C00), unsafeBitCast(scaled, to: SIMD4<UInt32>.self), special), to: SIMD4<Float>.self)
}

/// ggml's `hsum_float_8`: lanes i and i+4 first, then (0+2)+(1+3) of those.
@inline(__always)
func hsum8(_ v: SIMD8<Float>) -> Float {
    let four = v.lowHalf + v.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}
