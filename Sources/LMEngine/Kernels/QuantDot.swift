/// Fast integer dot products for the 32-element block formats, shared by the formats'
/// `dot` and by the tiled matmul (MatMul.swift).
///
/// Float order: llama.cpp's (x86, AVX2/AVX-512 build), so that lmlab's logits are
/// llama.cpp's to the bit. Its `ggml_vec_dot_q*_q8_*` and, for prefill, tinyBLAS both
/// do the same thing per output: the 32 integer products of a block are summed in 8
/// groups of 4 consecutive elements (exact), and each group's sum goes to its own float
/// lane: lane = fma(d_w·d_a, group, lane). At the end the 8 lanes are added pairwise
/// (`hsum8`), then Σ m_w·s_a (formats with a minimum, accumulated with fused
/// multiply-adds) is added. `ggmlBlockDotReference` writes that down as a plain loop;
/// the SIMD versions here compute the same expression, so they are bit-identical to
/// it, whether one row is done at a time (`dotRowLanes`) or four tokens share each
/// unpacked weight block (`dotTokens4`).
///
/// How the integer sum is shaped (checked in the assembly with -target-cpu haswell):
/// Swift's 16- and 32-lane integer conversions do not inline (they become calls and
/// element loops), so bytes are widened with shifts on reinterpreted vectors instead:
/// 32 bytes read as SIMD16<Int16> hold element 2k in the low byte of lane k and
/// element 2k+1 in the high byte; `(v << 8) >> 8` and `v >> 8` sign-extend them.
/// Products are made in Int16 (`vpmullw`), where they fit exactly (see each format),
/// and pairs of Int16 lanes are widened to Int32 the same way (`widenPairs`).
protocol IntBlockDot: BlockFormat {
    static var weightBlockBytes: Int { get }
    /// A weight block as (even, odd) Int16 lanes, lane k = element 2k / 2k+1, reused
    /// across activation rows.
    static func unpack(_ x: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>)
    /// 8 Int32 lanes whose sum is the block's exact Σ q_w·q_a, lane k = group 4k…4k+3.
    static func products(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ ye: SIMD16<Int16>, _ yo: SIMD16<Int16>) -> SIMD8<Int32>
}

/// What follows from the activation type: formats dotted against Q8_1 (Q4_1, Q5_1)
/// carry a minimum m right after their scale, and Q8_1 carries s = d_a·Σ q_a right after
/// its own, before the 32 codes; Q8_0 is the scale and the codes. (Constant per format:
/// the compiler folds these in each specialized kernel.)
extension IntBlockDot {
    /// Whether the weight has a minimum m: then Σ m·s is added.
    @inline(__always) static var hasMinimum: Bool { activationType == .q8_1 }
    @inline(__always) static var activationBlockBytes: Int { hasMinimum ? 36 : 34 }
    @inline(__always) static var activationCodesOffset: Int { hasMinimum ? 4 : 2 }
    /// Offsets of the fp16 weight minimum m and of the activation's s.
    @inline(__always) static var minimumOffset: Int { 2 }
    @inline(__always) static var activationSumOffset: Int { 2 }

    /// For the 4- and 5-bit formats, whose products fit Int16 in groups of four
    /// (|4 · 31 · 128| < 2^15): pairs summed in Int16, then `addPairsFittingInt16`.
    /// Q8_0, whose pairs may not fit, gives its own.
    @inline(__always)
    static func products(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ ye: SIMD16<Int16>, _ yo: SIMD16<Int16>) -> SIMD8<Int32> {
        addPairsFittingInt16(w.0 &* ye &+ w.1 &* yo)
    }
}

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

/// fp16 bits (in the low 16 bits of each lane) → fp32, exact for every input like
/// `halfToFloat`, in integer and float SIMD arithmetic only.
///
/// Why not F16C's `vcvtph2ps` (`Float(Float16)`): LLVM loads the half with `vpinsrw`
/// into whatever register it likes for the unused lanes, often the running sum, so
/// every block then waited for the previous block's float sum (measured: 2-3× slower).
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

/// (fp16 at x+ox, at y+oy, at x+ox2, at y+oy2) as floats: the scales of one block pair.
@inline(__always)
func halves4(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ ox: Int, _ oy: Int, _ ox2: Int, _ oy2: Int) -> SIMD4<Float> {
    halfBitsToFloat(SIMD4<UInt32>(UInt32(x.loadUnaligned(fromByteOffset: ox, as: UInt16.self)),
                                  UInt32(y.loadUnaligned(fromByteOffset: oy, as: UInt16.self)),
                                  UInt32(x.loadUnaligned(fromByteOffset: ox2, as: UInt16.self)),
                                  UInt32(y.loadUnaligned(fromByteOffset: oy2, as: UInt16.self))))
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

/// Lane i of the result = Σ lanes of v_i (exact).
@inline(__always)
func reduce4(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>, _ c: SIMD8<Int32>, _ d: SIMD8<Int32>) -> SIMD4<Int32> {
    let ab = SIMD8<Int32>(lowHalf: a.lowHalf &+ a.highHalf, highHalf: b.lowHalf &+ b.highHalf)
    let cd = SIMD8<Int32>(lowHalf: c.lowHalf &+ c.highHalf, highHalf: d.lowHalf &+ d.highHalf)
    let u = SIMD8<Int32>(lowHalf: ab.evenHalf &+ ab.oddHalf, highHalf: cd.evenHalf &+ cd.oddHalf)
    return u.evenHalf &+ u.oddHalf
}

/// Int32 lanes as floats (exact, as `vcvtdq2ps`). Lane by lane on purpose: the standard
/// library's generic `SIMD8<Float>(_: SIMD8<Int32>)` stays an out-of-line call in these
/// loops (its ymm argument split into two xmm halves and a `vzeroupper` each time: 16.6%
/// of SmolLM2's prefill), while LLVM folds these eight conversions into the one instruction.
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

/// The plain loop of llama.cpp's x86 float order for 32-element block formats (see the
/// top of this file). `product(b, j)` is the exact integer product of element j of block
/// b; `scale(b)` is d_w·d_a of block b; `minimum(b)`, for formats with a minimum, the
/// pair (m_w, s_a) whose product is added.
func ggmlBlockDotReference(blocks: Int, product: (Int, Int) -> Int32, scale: (Int) -> Float,
                           minimum: ((Int) -> (Float, Float))? = nil) -> Float {
    var lanes = SIMD8<Float>()
    var summs: Float = 0
    for b in 0..<blocks {
        let d = scale(b)
        for lane in 0..<8 {
            var group: Int32 = 0
            for j in (4 * lane)..<(4 * lane + 4) { group += product(b, j) }
            lanes[lane] = lanes[lane].addingProduct(d, Float(group))   // fused, as _mm256_fmadd_ps
        }
        if let minimum {
            let (m, s) = minimum(b)
            summs = summs.addingProduct(m, s)   // GCC contracts `summs += m*s` to an fma
        }
    }
    let sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]))
    return minimum == nil ? sum : sum + summs
}

extension IntBlockDot {
    /// One row against one activation row, in llama.cpp's order: each block's 8 Int32
    /// group sums go to float and are scaled into 8 running float lanes with an fma;
    /// the lanes are added once at the end.
    @inline(__always)
    static func dotRowLanes(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var summs: Float = 0
        var x = w, y = a
        let halves = HalfTable.floats
        for _ in 0..<count / 32 {
            let (ye, yo) = loadCodes32(y + activationCodesOffset)
            let scale = HalfTable.at(x, 0, halves) * HalfTable.at(y, 0, halves)
            acc = acc.addingProduct(floats(products(unpack(x), ye, yo)), SIMD8<Float>(repeating: scale))
            if hasMinimum {
                summs = summs.addingProduct(HalfTable.at(x, minimumOffset, halves), HalfTable.at(y, activationSumOffset, halves))
            }
            x += weightBlockBytes; y += activationBlockBytes
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
            let scale = HalfTable.at(x, 0, halves) * HalfTable.at(y, 0, halves)
            acc = acc.addingProduct(floats(products(unpack(x), ye, yo)), SIMD8<Float>(repeating: scale))
            if hasMinimum {
                summs = summs.addingProduct(HalfTable.at(x, minimumOffset, halves), HalfTable.at(y, activationSumOffset, halves))
            }
            x += weightBlockBytes; y += activationBlockBytes; c += 64
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
            let dw = HalfTable.at(x, 0, halves)
            let scales = SIMD4<Float>(repeating: dw) * sc.loadUnaligned(as: SIMD4<Float>.self)
            let (e0, o0) = c.p0.splitCodes, (e1, o1) = c.p1.splitCodes
            let (e2, o2) = c.p2.splitCodes, (e3, o3) = c.p3.splitCodes
            acc0 = acc0.addingProduct(floats(products(u, e0, o0)), SIMD8<Float>(repeating: scales[0]))
            acc1 = acc1.addingProduct(floats(products(u, e1, o1)), SIMD8<Float>(repeating: scales[1]))
            acc2 = acc2.addingProduct(floats(products(u, e2, o2)), SIMD8<Float>(repeating: scales[2]))
            acc3 = acc3.addingProduct(floats(products(u, e3, o3)), SIMD8<Float>(repeating: scales[3]))
            if hasMinimum {
                summs = summs.addingProduct(SIMD4<Float>(repeating: HalfTable.at(x, minimumOffset, halves)),
                                            sc.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self))
            }
            x += weightBlockBytes; c = c.advanced(by: 64); sc += 32
        }
        let sums = SIMD4<Float>(hsum8(acc0), hsum8(acc1), hsum8(acc2), hsum8(acc3))
        return hasMinimum ? sums + summs : sums
    }

    /// Writes four activation rows' fp16 scales as floats, 32 bytes a block: (d_0…d_3) and,
    /// for Q8_1, (s_0…s_3) — decoded once per matmul instead of once per weight row
    /// (scalar fp16 decoding was a visible share of the prefill tile).
    static func splitActivationScales(_ a: BlockPointers4, into scales: UnsafeMutableRawPointer, count: Int) {
        var y = a
        for b in 0..<count / 32 {
            scales.storeBytes(of: y.halves(0), toByteOffset: 32 * b, as: SIMD4<Float>.self)
            scales.storeBytes(of: hasMinimum ? y.halves(activationSumOffset) : SIMD4<Float>(),
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

extension UnsafeRawPointer {
    /// The (even, odd) Int16 codes of one split activation block (see `splitActivationCodes`).
    @inline(__always) var splitCodes: (SIMD16<Int16>, SIMD16<Int16>) {
        (load(as: SIMD16<Int16>.self), load(fromByteOffset: 32, as: SIMD16<Int16>.self))
    }
}

// MARK: - The formats

extension Q8_0Format: IntBlockDot {
    static var weightBlockBytes: Int { 34 }
    @inline(__always) static func unpack(_ x: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) { loadCodes32(x + 2) }
    /// Single int8·int8 products fit Int16 (|−128·−128| = 16384), their pairs may not: widen each.
    @inline(__always) static func products(_ w: (SIMD16<Int16>, SIMD16<Int16>), _ ye: SIMD16<Int16>, _ yo: SIMD16<Int16>) -> SIMD8<Int32> {
        widenPairs(w.0 &* ye) &+ widenPairs(w.1 &* yo)
    }
}

extension Q4_0Format: IntBlockDot {
    static var weightBlockBytes: Int { 18 }
    /// code − 8 without a subtraction: flipping bit 3 of a nibble (XOR 8) turns code into
    /// the 4-bit two's complement of code − 8, and an arithmetic shift sign-extends it.
    /// Lane k of the 16-bit view holds bytes 2k, 2k+1 (elements 2k, 2k+1 in bits 0–3 and
    /// 8–11); shifting the row right by 4 brings the high nibbles (elements 2k+16,
    /// 2k+17) there for the upper 8 lanes. Then (v << 12) >> 12 is the even element and
    /// (v << 4) >> 12 the odd one, whatever the other bits hold. One operation fewer
    /// per block than masking and subtracting, which is most of what Q4_0 saves over
    /// Q8_0 in compute.
    @inline(__always) static func unpack(_ x: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let q = x.loadUnaligned(fromByteOffset: 2, as: SIMD8<UInt16>.self) ^ 0x8888
        let v = unsafeBitCast(SIMD16<UInt16>(lowHalf: q, highHalf: q &>> 4), to: SIMD16<Int16>.self)
        return ((v &<< 12) &>> 12, (v &<< 4) &>> 12)
    }
}

extension Q4_1Format: IntBlockDot {
    static var weightBlockBytes: Int { 20 }
    @inline(__always) static func unpack(_ x: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) { loadNibbles32(x + 4) }
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

extension Q5_0Format: IntBlockDot {
    static var weightBlockBytes: Int { 22 }
    @inline(__always) static func unpack(_ x: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let (e, o) = loadFiveBitCodes(qh: x.loadUnaligned(fromByteOffset: 2, as: UInt32.self), qs: x + 6)
        return (e &- 16, o &- 16)
    }
}

extension Q5_1Format: IntBlockDot {
    static var weightBlockBytes: Int { 24 }
    @inline(__always) static func unpack(_ x: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
        loadFiveBitCodes(qh: x.loadUnaligned(fromByteOffset: 4, as: UInt32.self), qs: x + 8)
    }
}
