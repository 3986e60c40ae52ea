import _Builtin_intrinsics.intel
// This module is compiled for AVX-VNNI and AVX-512 (F, BW, DQ, VL, VNNI; Package.swift):
// anything in it may use those, so LMEngine calls it only when the CPU has them all
// (`CPUFeatures.vnni`).
// LMEngine itself cannot take the flag: LLVM would fuse its vpmaddwd + vpaddd pairs into
// vpdpwssd, which traps on an AVX2-only CPU.
//
// What VNNI changes: vpdpbusd multiplies 32 unsigned by 32 signed bytes and adds each
// group of four products into an Int32 lane of its accumulator, exactly — no Int16 step
// that could saturate. So a signed weight q_j = u_j − o goes in as its unsigned byte u_j
// (Q8_0: q + 128, Q5_0: q + 16, Q4_0: q + 8) with the accumulator started at −o·Σ c_j of
// each group (`writeGroupOffsets`, once per matmul): one instruction gives the group sums
// that AVX2 needs vpsignb, vpmaddubsw and vpmaddwd for. The float steps are LMEngine's
// (`dotRowLanes`, `dotTokens4` in QuantDot.swift): same order, same bits.

/// The 32-element block formats these kernels take.
public enum VNNIFormat: Sendable { case q4_0, q4_1, q5_0, q5_1, q8_0 }

/// A weight block as unsigned bytes u_j = q_j + offset, and where its fp16s are.
protocol UnsignedBlock {
    static var blockBytes: Int { get }
    static var scaleOffset: Int { get }
    /// The fp16 minimum m (Q4_1, Q5_1: activations are Q8_1); nil: Q8_0 activations.
    static var minimumOffset: Int? { get }
    /// o in q_j = u_j − o (0: the codes are unsigned already).
    static var offset: Int8 { get }
    static func codes(_ x: UnsafeRawPointer) -> __m256i
}

/// 32 nibbles (byte j: element j low, j + 16 high) as bytes 0…15 in element order.
@inline(__always) func nibbles(_ p: UnsafeRawPointer) -> __m256i {
    let q = p.loadUnaligned(as: __m128i.self)
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F))
}

/// 16 in byte j where bit j of qh is set (the fifth bit of Q5 codes).
@inline(__always) func fifthBits(_ qh: UInt32) -> __m256i {
    let spread = _mm256_shuffle_epi8(_mm256_set1_epi32(Int32(bitPattern: qh)),
                                     _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0101_0101_0101_0101, 0))
    let bit = _mm256_set1_epi64x(Int64(bitPattern: 0x8040_2010_0804_0201))
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(16))
}

enum Q4_0Block: UnsignedBlock {   // d, qs[16]
    static var blockBytes: Int { 18 }; static var scaleOffset: Int { 0 }; static var minimumOffset: Int? { nil }
    static var offset: Int8 { 8 }
    @inline(__always) static func codes(_ x: UnsafeRawPointer) -> __m256i { nibbles(x + 2) }
}
enum Q4_1Block: UnsignedBlock {   // d, m, qs[16]
    static var blockBytes: Int { 20 }; static var scaleOffset: Int { 0 }; static var minimumOffset: Int? { 2 }
    static var offset: Int8 { 0 }
    @inline(__always) static func codes(_ x: UnsafeRawPointer) -> __m256i { nibbles(x + 4) }
}
enum Q5_0Block: UnsignedBlock {   // d, qh, qs[16]
    static var blockBytes: Int { 22 }; static var scaleOffset: Int { 0 }; static var minimumOffset: Int? { nil }
    static var offset: Int8 { 16 }
    @inline(__always) static func codes(_ x: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles(x + 6), fifthBits(x.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
    }
}
enum Q5_1Block: UnsignedBlock {   // d, m, qh, qs[16]
    static var blockBytes: Int { 24 }; static var scaleOffset: Int { 0 }; static var minimumOffset: Int? { 2 }
    static var offset: Int8 { 0 }
    @inline(__always) static func codes(_ x: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles(x + 8), fifthBits(x.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    }
}
enum Q8_0Block: UnsignedBlock {   // d, qs[32] signed
    static var blockBytes: Int { 34 }; static var scaleOffset: Int { 0 }; static var minimumOffset: Int? { nil }
    static var offset: Int8 { -128 }   // u = q + 128 as a byte is q with its top bit flipped; o = 128 ≡ −128
    @inline(__always) static func codes(_ x: UnsafeRawPointer) -> __m256i {
        _mm256_xor_si256(x.loadUnaligned(fromByteOffset: 2, as: __m256i.self), _mm256_set1_epi8(-128))
    }
}

extension UnsignedBlock {
    // The activation blocks: Q8_1 (d, s, 32 codes) beside a minimum, else Q8_0 (d, 32 codes).
    @inline(__always) static var activationBytes: Int { minimumOffset == nil ? 34 : 36 }
    @inline(__always) static var activationCodes: Int { minimumOffset == nil ? 2 : 4 }
    @inline(__always) static var hasOffset: Bool { offset != 0 }

    /// Lane g = the exact Σ q_j·c_j over elements 4g…4g+3: u_j·c_j added onto −o·Σ c_j
    /// (`start`, from `writeGroupOffsets`; zero for unsigned codes).
    @inline(__always) static func groupSums(_ start: __m256i, _ u: __m256i, _ c: __m256i) -> __m256i {
        _mm256_dpbusd_avx_epi32(start, u, c)
    }

    @inline(__always) static func start(_ offsets: UnsafeRawPointer?, _ b: Int) -> __m256i {
        hasOffset ? offsets!.loadUnaligned(fromByteOffset: 32 * b, as: __m256i.self) : _mm256_setzero_si256()
    }

    /// LMEngine's `dotRowLanes` for one row of `count` elements and one activation row.
    @inline(__always)
    static func dotRow(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, offsets: UnsafeRawPointer?, count: Int,
                       halves: UnsafePointer<Float>) -> Float {
        var acc = SIMD8<Float>(), summs: Float = 0
        for b in 0..<count / 32 {
            let x = w + b * blockBytes, y = a + b * activationBytes
            let c = y.loadUnaligned(fromByteOffset: activationCodes, as: __m256i.self)
            let scale = half(x, scaleOffset, halves) * half(y, 0, halves)
            acc = acc.addingProduct(floats8(groupSums(start(offsets, b), codes(x), c)), SIMD8<Float>(repeating: scale))
            if let minimumOffset { summs = summs.addingProduct(half(x, minimumOffset, halves), half(y, 2, halves)) }
        }
        return minimumOffset == nil ? hsum8(acc) : hsum8(acc) + summs
    }

    /// LMEngine's `dotTokens4`: one row against four activation rows a0…a3 (their
    /// group offsets o0…o3), each weight block unpacked once. `scales`: the four rows'
    /// d (and Q8_1's s) per block, 32 bytes a block, as LMEngine's `splitActivationScales` writes them.
    @inline(__always)
    static func dotTokens4(_ w: UnsafeRawPointer, scales: UnsafeRawPointer, _ a: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer),
                           offsets o: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer)?, count: Int,
                           halves: UnsafePointer<Float>) -> SIMD4<Float> {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        var summs = SIMD4<Float>()
        for b in 0..<count / 32 {
            let x = w + b * blockBytes, sc = scales + 32 * b, ya = b * activationBytes + activationCodes
            let u = codes(x)
            let s = SIMD4<Float>(repeating: half(x, scaleOffset, halves)) * sc.loadUnaligned(as: SIMD4<Float>.self)
            @inline(__always) func sums(_ y: UnsafeRawPointer, _ offsets: UnsafeRawPointer?) -> SIMD8<Float> {
                floats8(groupSums(start(offsets, b), u, y.loadUnaligned(fromByteOffset: ya, as: __m256i.self)))
            }
            acc0 = acc0.addingProduct(sums(a.0, o?.0), SIMD8<Float>(repeating: s[0]))
            acc1 = acc1.addingProduct(sums(a.1, o?.1), SIMD8<Float>(repeating: s[1]))
            acc2 = acc2.addingProduct(sums(a.2, o?.2), SIMD8<Float>(repeating: s[2]))
            acc3 = acc3.addingProduct(sums(a.3, o?.3), SIMD8<Float>(repeating: s[3]))
            if let minimumOffset {
                summs = summs.addingProduct(SIMD4<Float>(repeating: half(x, minimumOffset, halves)),
                                            sc.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self))
            }
        }
        let sums = SIMD4<Float>(hsum8(acc0), hsum8(acc1), hsum8(acc2), hsum8(acc3))
        return minimumOffset == nil ? sums : sums + summs
    }
}

extension UnsignedBlock {
    /// `dotTokens4` for two rows (w and w + rowBytes) at once in 512-bit vectors: lanes
    /// 0…7 carry row 0's eight group lanes, 8…15 row 1's, so each vpdpbusd, conversion,
    /// scale and fma does both rows' work; activations and offsets are broadcast to both halves.
    @inline(__always)
    static func dotTokens4Rows2(_ w: UnsafeRawPointer, rowBytes: Int, scales: UnsafeRawPointer,
                                _ a: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer),
                                offsets o: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer)?, count: Int,
                                halves: UnsafePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>) {
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>(), acc2 = SIMD16<Float>(), acc3 = SIMD16<Float>()
        var summs0 = SIMD4<Float>(), summs1 = SIMD4<Float>()
        for b in 0..<count / 32 {
            let x0 = w + b * blockBytes, x1 = x0 + rowBytes, sc = scales + 32 * b, ya = b * activationBytes + activationCodes
            let u = unsafeBitCast(SIMD16<Int32>(lowHalf: unsafeBitCast(codes(x0), to: SIMD8<Int32>.self),
                                                highHalf: unsafeBitCast(codes(x1), to: SIMD8<Int32>.self)), to: __m512i.self)
            let dw = SIMD16<Float>(lowHalf: SIMD8(repeating: half(x0, scaleOffset, halves)),
                                   highHalf: SIMD8(repeating: half(x1, scaleOffset, halves)))
            @inline(__always) func both(_ p: UnsafeRawPointer, _ offset: Int) -> __m512i {
                let v = p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Int32>.self)
                return unsafeBitCast(SIMD16<Int32>(lowHalf: v, highHalf: v), to: __m512i.self)
            }
            @inline(__always) func step(_ y: UnsafeRawPointer, _ offsets: UnsafeRawPointer?, _ t: Int, _ acc: SIMD16<Float>) -> SIMD16<Float> {
                let start = hasOffset ? both(offsets!, 32 * b) : _mm512_setzero_si512()
                let sums = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, u, both(y, ya)))
                return acc.addingProduct(sums, dw * SIMD16<Float>(repeating: sc.loadUnaligned(fromByteOffset: 4 * t, as: Float.self)))
            }
            acc0 = step(a.0, o?.0, 0, acc0); acc1 = step(a.1, o?.1, 1, acc1)
            acc2 = step(a.2, o?.2, 2, acc2); acc3 = step(a.3, o?.3, 3, acc3)
            if let minimumOffset {
                let s = sc.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
                summs0 = summs0.addingProduct(SIMD4<Float>(repeating: half(x0, minimumOffset, halves)), s)
                summs1 = summs1.addingProduct(SIMD4<Float>(repeating: half(x1, minimumOffset, halves)), s)
            }
        }
        let row0 = SIMD4<Float>(hsum8(acc0.lowHalf), hsum8(acc1.lowHalf), hsum8(acc2.lowHalf), hsum8(acc3.lowHalf))
        let row1 = SIMD4<Float>(hsum8(acc0.highHalf), hsum8(acc1.highHalf), hsum8(acc2.highHalf), hsum8(acc3.highHalf))
        return minimumOffset == nil ? (row0, row1) : (row0 + summs0, row1 + summs1)
    }
}

extension UnsignedBlock {
    /// `dotRow` for two rows (w and w + rowBytes) in one 512-bit vector, lanes 0…7 row 0's
    /// group lanes and 8…15 row 1's: decode's two rows per step.
    @inline(__always)
    static func dotRowRows2(_ w: UnsafeRawPointer, rowBytes: Int, _ a: UnsafeRawPointer, offsets: UnsafeRawPointer?, count: Int,
                            halves: UnsafePointer<Float>) -> (Float, Float) {
        var acc = SIMD16<Float>(), summs0: Float = 0, summs1: Float = 0
        for b in 0..<count / 32 {
            let x0 = w + b * blockBytes, x1 = x0 + rowBytes, y = a + b * activationBytes
            if b % max(1, 64 / blockBytes) == 0 {   // a hint about once a cache line (Prefetch.swift)
                prefetch(x0 + prefetchAhead, bytes: 1); prefetch(x1 + prefetchAhead, bytes: 1)
            }
            let u = unsafeBitCast(SIMD16<Int32>(lowHalf: unsafeBitCast(codes(x0), to: SIMD8<Int32>.self),
                                                highHalf: unsafeBitCast(codes(x1), to: SIMD8<Int32>.self)), to: __m512i.self)
            @inline(__always) func both(_ p: UnsafeRawPointer, _ offset: Int) -> __m512i {
                let v = p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Int32>.self)
                return unsafeBitCast(SIMD16<Int32>(lowHalf: v, highHalf: v), to: __m512i.self)
            }
            let start = hasOffset ? both(offsets!, 32 * b) : _mm512_setzero_si512()
            let da = half(y, 0, halves)
            let scale = SIMD16<Float>(lowHalf: SIMD8(repeating: half(x0, scaleOffset, halves) * da),
                                      highHalf: SIMD8(repeating: half(x1, scaleOffset, halves) * da))
            acc = acc.addingProduct(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, u, both(y, activationCodes))), scale)
            if let minimumOffset {
                summs0 = summs0.addingProduct(half(x0, minimumOffset, halves), half(y, 2, halves))
                summs1 = summs1.addingProduct(half(x1, minimumOffset, halves), half(y, 2, halves))
            }
        }
        return minimumOffset == nil ? (hsum8(acc.lowHalf), hsum8(acc.highHalf)) : (hsum8(acc.lowHalf) + summs0, hsum8(acc.highHalf) + summs1)
    }
}

@inline(__always) func half(_ p: UnsafeRawPointer, _ offset: Int, _ table: UnsafePointer<Float>) -> Float {
    table[Int(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))]
}
@inline(__always) func floats8(_ v: __m256i) -> SIMD8<Float> { unsafeBitCast(_mm256_cvtepi32_ps(v), to: SIMD8<Float>.self) }
/// ggml's `hsum_float_8`, as LMEngine's `hsum8`.
@inline(__always) func hsum8(_ v: SIMD8<Float>) -> Float {
    let four = v.lowHalf + v.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// The entry points, one specialized kernel per format behind one switch per call.
/// `halves`: a table of every fp16 bit pattern as a Float (LMEngine's `HalfTable`).
public enum VNNIKernels {
    static func block(_ f: VNNIFormat) -> any UnsignedBlock.Type {
        switch f {
        case .q4_0: Q4_0Block.self
        case .q4_1: Q4_1Block.self
        case .q5_0: Q5_0Block.self
        case .q5_1: Q5_1Block.self
        case .q8_0: Q8_0Block.self
        }
    }

    /// Whether the format needs `writeGroupOffsets` (its codes are signed).
    public static func needsGroupOffsets(_ f: VNNIFormat) -> Bool { block(f).offset != 0 }

    /// Bytes of `writeGroupOffsets`' output for n rows of `cols` elements.
    public static func groupOffsetBytes(n: Int, cols: Int) -> Int { 32 * n * (cols / 32) }

    /// For each of n Q8_0 activation rows (`rowBytes` apart) and each block b, at
    /// 32·(t·blocks + b): eight Int32, lane g = −o·Σ c_j over the group's four codes.
    public static func writeGroupOffsets(_ f: VNNIFormat, _ a: UnsafeRawPointer, rowBytes: Int, cols: Int, n: Int,
                                         into dst: UnsafeMutableRawPointer) {
        let o = block(f).offset, blocks = cols / 32
        // The byte o read as unsigned is the offset itself (Q8_0's −128 is 128).
        for t in 0..<n {
            for b in 0..<blocks {
                let c = (a + t * rowBytes + b * 34).loadUnaligned(fromByteOffset: 2, as: __m256i.self)
                let out = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(o), c))
                dst.storeBytes(of: out, toByteOffset: 32 * (t * blocks + b), as: __m256i.self)
            }
        }
    }

    public static func dotRow(_ f: VNNIFormat, _ w: UnsafeRawPointer, _ a: UnsafeRawPointer, offsets: UnsafeRawPointer?,
                              count: Int, halves: UnsafePointer<Float>) -> Float {
        switch f {
        case .q4_0: Q4_0Block.dotRow(w, a, offsets: offsets, count: count, halves: halves)
        case .q4_1: Q4_1Block.dotRow(w, a, offsets: offsets, count: count, halves: halves)
        case .q5_0: Q5_0Block.dotRow(w, a, offsets: offsets, count: count, halves: halves)
        case .q5_1: Q5_1Block.dotRow(w, a, offsets: offsets, count: count, halves: halves)
        case .q8_0: Q8_0Block.dotRow(w, a, offsets: offsets, count: count, halves: halves)
        }
    }

    public static func dotRowRows2(_ f: VNNIFormat, _ w: UnsafeRawPointer, rowBytes: Int, _ a: UnsafeRawPointer, offsets: UnsafeRawPointer?,
                                   count: Int, halves: UnsafePointer<Float>) -> (Float, Float) {
        switch f {
        case .q4_0: Q4_0Block.dotRowRows2(w, rowBytes: rowBytes, a, offsets: offsets, count: count, halves: halves)
        case .q4_1: Q4_1Block.dotRowRows2(w, rowBytes: rowBytes, a, offsets: offsets, count: count, halves: halves)
        case .q5_0: Q5_0Block.dotRowRows2(w, rowBytes: rowBytes, a, offsets: offsets, count: count, halves: halves)
        case .q5_1: Q5_1Block.dotRowRows2(w, rowBytes: rowBytes, a, offsets: offsets, count: count, halves: halves)
        case .q8_0: Q8_0Block.dotRowRows2(w, rowBytes: rowBytes, a, offsets: offsets, count: count, halves: halves)
        }
    }

    public static func dotTokens4Rows2(_ f: VNNIFormat, _ w: UnsafeRawPointer, rowBytes: Int, scales: UnsafeRawPointer,
                                       _ a: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer),
                                       offsets: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer)?,
                                       count: Int, halves: UnsafePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>) {
        switch f {
        case .q4_0: Q4_0Block.dotTokens4Rows2(w, rowBytes: rowBytes, scales: scales, a, offsets: offsets, count: count, halves: halves)
        case .q4_1: Q4_1Block.dotTokens4Rows2(w, rowBytes: rowBytes, scales: scales, a, offsets: offsets, count: count, halves: halves)
        case .q5_0: Q5_0Block.dotTokens4Rows2(w, rowBytes: rowBytes, scales: scales, a, offsets: offsets, count: count, halves: halves)
        case .q5_1: Q5_1Block.dotTokens4Rows2(w, rowBytes: rowBytes, scales: scales, a, offsets: offsets, count: count, halves: halves)
        case .q8_0: Q8_0Block.dotTokens4Rows2(w, rowBytes: rowBytes, scales: scales, a, offsets: offsets, count: count, halves: halves)
        }
    }

    public static func dotTokens4(_ f: VNNIFormat, _ w: UnsafeRawPointer, scales: UnsafeRawPointer,
                                  _ a: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer),
                                  offsets: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer)?,
                                  count: Int, halves: UnsafePointer<Float>) -> SIMD4<Float> {
        switch f {
        case .q4_0: Q4_0Block.dotTokens4(w, scales: scales, a, offsets: offsets, count: count, halves: halves)
        case .q4_1: Q4_1Block.dotTokens4(w, scales: scales, a, offsets: offsets, count: count, halves: halves)
        case .q5_0: Q5_0Block.dotTokens4(w, scales: scales, a, offsets: offsets, count: count, halves: halves)
        case .q5_1: Q5_1Block.dotTokens4(w, scales: scales, a, offsets: offsets, count: count, halves: halves)
        case .q8_0: Q8_0Block.dotTokens4(w, scales: scales, a, offsets: offsets, count: count, halves: halves)
        }
    }
}
