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

/// A 32-element integer block format, as the dots see it. Each conformance lives in
/// the format's own file: its layout constants, `integer` for the plain loop, and
/// `unpack` (plus `products` where the default doesn't fit) for the SIMD kernels.
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
    /// All 32 q_j as (even, odd) Int16 lanes, lane k = element 2k / 2k+1: the SIMD
    /// kernels' unpacking, done once per weight block and reused across activation rows.
    static func unpack(_ block: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>)
    /// 8 Int32 lanes whose sum is the block's exact Σ q_j·c_j, lane g = group 4g…4g+3.
    static func products(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ ye: SIMD16<Int16>, _ yo: SIMD16<Int16>) -> SIMD8<Int32>
}

/// The activation side follows from whether the weight has a minimum: Q8_1 (scale, sum
/// s, 32 codes) for Q4_1/Q5_1, Q8_0 (scale, 32 codes) for the others. Constants per
/// format: the compiler folds them in each specialized kernel.
extension IntBlockDot {
    @inline(__always) static var hasMinimum: Bool { minimumOffset != nil }
    @inline(__always) static var activationBlockBytes: Int { hasMinimum ? Q8_1Format.blockBytes : Q8_0Format.blockBytes }
    @inline(__always) static var activationScaleOffset: Int { hasMinimum ? Q8_1Format.scaleOffset : Q8_0Format.scaleOffset }
    @inline(__always) static var activationCodesOffset: Int { hasMinimum ? Q8_1Format.codesOffset : Q8_0Format.codesOffset }

    /// For the 4- and 5-bit formats, whose products fit Int16 in groups of four
    /// (|4 · 31 · 128| < 2^15): pairs summed in Int16, then `addPairsFittingInt16`.
    /// Q8_0, whose pairs may not fit, gives its own.
    @inline(__always)
    static func products(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ ye: SIMD16<Int16>, _ yo: SIMD16<Int16>) -> SIMD8<Int32> {
        addPairsFittingInt16(w.0 &* ye &+ w.1 &* yo)
    }
}

// MARK: - The SIMD kernels
//
// How the integer sum is shaped (checked in the assembly with -target-cpu haswell):
// Swift's 16- and 32-lane integer conversions do not inline (they become calls and
// element loops), so bytes are widened with shifts on reinterpreted vectors instead:
// 32 bytes read as SIMD16<Int16> hold element 2k in the low byte of lane k and
// element 2k+1 in the high byte; `(v << 8) >> 8` and `v >> 8` sign-extend them.
// Products are made in Int16 (`vpmullw`), where they fit exactly (see each format),
// and pairs of Int16 lanes are widened to Int32 the same way (`widenPairs`).

extension IntBlockDot {
    /// `blockDotReference` with SIMD: one row against one activation row. Each block's
    /// 8 Int32 group sums go to float and are scaled into 8 running float lanes with an
    /// fma; the lanes are added once at the end.
    @inline(__always)
    static func dotRowLanes(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var summs: Float = 0
        var x = w, y = a
        let halves = HalfTable.floats
        for _ in 0..<count / 32 {
            let (ye, yo) = loadCodes32(y + activationCodesOffset)
            let scale = HalfTable.at(x, scaleOffset, halves) * HalfTable.at(y, activationScaleOffset, halves)
            acc = acc.addingProduct(floats(products(unpack(x), ye, yo)), SIMD8<Float>(repeating: scale))
            if let minimumOffset {
                summs = summs.addingProduct(HalfTable.at(x, minimumOffset, halves), HalfTable.at(y, Q8_1Format.sumOffset, halves))
            }
            x += blockBytes; y += activationBlockBytes
        }
        return hasMinimum ? hsum8(acc) + summs : hsum8(acc)
    }

    /// `dotRowLanes` with the activation codes already split: `codes` holds, per block,
    /// the even and odd elements as sign-extended Int16 lanes (`splitActivationCodes`,
    /// 64 bytes a block). A matmul splits each activation row once and reuses it for
    /// every weight row, which saves the three shifts per block and row of `loadCodes32`.
    /// Scales (and Q8_1's sums) are still read from the quantized row `a`.
    @inline(__always)
    static func dotRowLanes(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, codes: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var summs: Float = 0
        var x = w, y = a, c = codes
        let halves = HalfTable.floats
        for _ in 0..<count / 32 {
            let ye = c.load(as: SIMD16<Int16>.self), yo = c.load(fromByteOffset: 32, as: SIMD16<Int16>.self)
            let scale = HalfTable.at(x, scaleOffset, halves) * HalfTable.at(y, activationScaleOffset, halves)
            acc = acc.addingProduct(floats(products(unpack(x), ye, yo)), SIMD8<Float>(repeating: scale))
            if let minimumOffset {
                summs = summs.addingProduct(HalfTable.at(x, minimumOffset, halves), HalfTable.at(y, Q8_1Format.sumOffset, halves))
            }
            x += blockBytes; y += activationBlockBytes; c += 64
        }
        return hasMinimum ? hsum8(acc) + summs : hsum8(acc)
    }

    /// One weight row against four activation rows: lane i = dotRowLanes(w, a_i), with
    /// each weight block unpacked once for the four. `codes`: the four rows' split codes;
    /// `scales`: their scales per block as `splitActivationScales` writes them.
    @inline(__always)
    static func dotTokens4(_ w: UnsafeRawPointer, scales: UnsafeRawPointer, codes: BlockPointers4, count: Int) -> SIMD4<Float> {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        var summs = SIMD4<Float>()
        var x = w, c = codes, sc = scales
        let halves = HalfTable.floats
        for _ in 0..<count / 32 {
            let u = unpack(x)
            let dw = HalfTable.at(x, scaleOffset, halves)
            let scales = SIMD4<Float>(repeating: dw) * sc.loadUnaligned(as: SIMD4<Float>.self)
            let (e0, o0) = c.p0.splitCodes, (e1, o1) = c.p1.splitCodes
            let (e2, o2) = c.p2.splitCodes, (e3, o3) = c.p3.splitCodes
            acc0 = acc0.addingProduct(floats(products(u, e0, o0)), SIMD8<Float>(repeating: scales[0]))
            acc1 = acc1.addingProduct(floats(products(u, e1, o1)), SIMD8<Float>(repeating: scales[1]))
            acc2 = acc2.addingProduct(floats(products(u, e2, o2)), SIMD8<Float>(repeating: scales[2]))
            acc3 = acc3.addingProduct(floats(products(u, e3, o3)), SIMD8<Float>(repeating: scales[3]))
            if let minimumOffset {
                summs = summs.addingProduct(SIMD4<Float>(repeating: HalfTable.at(x, minimumOffset, halves)),
                                            sc.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self))
            }
            x += blockBytes; c = c.advanced(by: 64); sc += 32
        }
        let sums = SIMD4<Float>(hsum8(acc0), hsum8(acc1), hsum8(acc2), hsum8(acc3))
        return hasMinimum ? sums + summs : sums
    }

    /// Writes four activation rows' fp16 scales as floats, 32 bytes a block: (d_0…d_3) and,
    /// for Q8_1, (s_0…s_3) — decoded once per matmul instead of once per weight row.
    static func splitActivationScales(_ a: BlockPointers4, into scales: UnsafeMutableRawPointer, count: Int) {
        var y = a
        for b in 0..<count / 32 {
            scales.storeBytes(of: y.halves(activationScaleOffset), toByteOffset: 32 * b, as: SIMD4<Float>.self)
            scales.storeBytes(of: hasMinimum ? y.halves(Q8_1Format.sumOffset) : SIMD4<Float>(),
                              toByteOffset: 32 * b + 16, as: SIMD4<Float>.self)
            y = y.advanced(by: activationBlockBytes)
        }
    }

    /// Writes the codes of `count` activation elements (a row of this format's
    /// activation type at `a`) to `codes` as (even, odd) Int16 lanes, 64 bytes a block:
    /// what `loadCodes32` gives, computed once per row instead of once per weight row.
    static func splitActivationCodes(_ a: UnsafeRawPointer, into codes: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let (even, odd) = loadCodes32(a + b * activationBlockBytes + activationCodesOffset)
            codes.storeBytes(of: even, toByteOffset: 64 * b, as: SIMD16<Int16>.self)
            codes.storeBytes(of: odd, toByteOffset: 64 * b + 32, as: SIMD16<Int16>.self)
        }
    }
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

extension UnsafeRawPointer {
    /// The (even, odd) Int16 codes of one split activation block (see `splitActivationCodes`).
    @inline(__always) var splitCodes: (SIMD16<Int16>, SIMD16<Int16>) {
        (load(as: SIMD16<Int16>.self), load(fromByteOffset: 32, as: SIMD16<Int16>.self))
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

/// The 32 int8 codes at `p`, sign-extended: (even elements, odd elements), lane k = element 2k / 2k+1.
@inline(__always)
func loadCodes32(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
    let v = p.loadUnaligned(as: SIMD16<Int16>.self)
    return ((v &<< 8) &>> 8, v &>> 8)
}

/// Σ of each pair of Int16 lanes as Int32 (exact for any Int16 values).
@inline(__always)
func widenPairs(_ p: SIMD16<Int16>) -> SIMD8<Int32> {
    let v = unsafeBitCast(p, to: SIMD8<Int32>.self)
    return ((v &<< 16) &>> 16) &+ (v &>> 16)
}

/// Σ of each pair of Int16 lanes as Int32, for pair sums that themselves fit Int16 (the
/// 4- and 5-bit formats' groups of four: |4 · 31 · 128| < 2^15): adding the lane shifted
/// up by 16 leaves the exact sum in the upper half, which an arithmetic shift brings
/// down. Three operations where `widenPairs` needs four.
@inline(__always)
func addPairsFittingInt16(_ p: SIMD16<Int16>) -> SIMD8<Int32> {
    let v = unsafeBitCast(p, to: SIMD8<Int32>.self)
    return (v &+ (v &<< 16)) &>> 16
}

/// 16 nibble codes from the 16 bytes at `p` (byte j: element j low, element j+16 high),
/// as (even elements, odd elements) of the block, lane k = element 2k / 2k+1, values 0...15.
@inline(__always)
func loadNibbles32(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
    // Bytes in element order (low nibbles = elements 0..<16, then high nibbles), both
    // halves fully defined: splicing a shifted copy into an otherwise undefined vector
    // let LLVM borrow a live register (the accumulator) for the other half, which
    // chained every block behind the previous block's float sum.
    let q = p.loadUnaligned(as: SIMD16<UInt8>.self)
    let v = unsafeBitCast(SIMD32<UInt8>(lowHalf: q & 0x0F, highHalf: (q &>> 4) & 0x0F), to: SIMD16<Int16>.self)
    return (v & 0x00FF, v &>> 8)
}

/// The 32 five-bit codes of a Q5_0/Q5_1 block as (even, odd) Int16 lanes, values 0...31:
/// the nibbles (`loadNibbles32` at `qs`) plus 16 where the element's bit of `qh` is set.
/// Even lane k is element 2k, whose bit sits at 2k in qh: bit 2k of qh's low half for
/// k < 8, bit 2(k−8) of its high half after; odd lanes take the next bit up. Each lane
/// ANDs its own bit out of a copy of the right half; a set bit b (1...32768) plus 0x7FFF
/// carries into bit 15, an unset one doesn't (no per-lane shifts or compares: both
/// compile to scalar code here).
@inline(__always)
func loadFiveBitCodes(qh: UInt32, qs: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
    let (e, o) = loadNibbles32(qs)
    let halves = SIMD16<UInt16>(lowHalf: SIMD8(repeating: UInt16(truncatingIfNeeded: qh)),
                                highHalf: SIMD8(repeating: UInt16(truncatingIfNeeded: qh >> 16)))
    let evenBits = SIMD16<UInt16>(1, 4, 16, 64, 256, 1024, 4096, 16384, 1, 4, 16, 64, 256, 1024, 4096, 16384)
    let fifthEven = (((halves & evenBits) &+ 0x7FFF) &>> 15) &<< 4
    let fifthOdd = (((halves & (evenBits &<< 1)) &+ 0x7FFF) &>> 15) &<< 4
    return (e | unsafeBitCast(fifthEven, to: SIMD16<Int16>.self), o | unsafeBitCast(fifthOdd, to: SIMD16<Int16>.self))
}

/// Int32 lanes as floats (exact, as `vcvtdq2ps`). Lane by lane on purpose: the standard
/// library's generic `SIMD8<Float>(_: SIMD8<Int32>)` stays an out-of-line call in these
/// loops, while LLVM folds these eight conversions into the one instruction
/// (BENCHMARKS.md, "Where the speed targets stand").
@inline(__always)
func floats(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8<Float>(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]), Float(v[7]))
}

/// ggml's `hsum_float_8`: lanes i and i+4 first, then (0+2)+(1+3) of those.
@inline(__always)
func hsum8(_ v: SIMD8<Float>) -> Float {
    let four = v.lowHalf + v.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}
