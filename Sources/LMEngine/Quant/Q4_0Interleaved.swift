import _Builtin_intrinsics.intel
import CPrefetch
import LMKernelsVNNI
/// Q4_0 weights interleaved eight rows at a time: a copy made once at load
/// (`WeightMatrix.interleavedForKernels`) so that one 32-byte load holds a piece of eight
/// rows and one broadcast activation meets all of them. The products then land in their
/// row's Int32 lane and no lanes need adding across (the row-major kernels in
/// QuantDot.swift spend more on `vphaddd` than on multiplying). This is what llama.cpp's
/// repacked q4_0_8x8 buffers are for; the bytes are laid out lmlab's own way.
///
/// Group g (rows 8g…8g+7), block b sits at (g·blocks + b)·144 bytes, the same 8×18 bytes
/// as the rows' own blocks:
///
///     offset 0    d[8]         fp16   row r's scale in slot r
///     offset 16   qs[4][8][4]  uint8  chunk k (32 bytes), slot r: bytes 4k…4k+3 of row r's
///                                     16 code bytes, i.e. its elements 4k…4k+3 (low
///                                     nibbles) and 16+4k…16+4k+3 (high nibbles)
///
/// The sums are llama.cpp's repacked order (`repackedDotReference`): per block the exact
/// integer Σ (u_j − 8)·c_j, to float, acc = fma(Σ, d_w·d_a, acc). The kernels hold each
/// row's Σ u_j·c_j in its lane and take 8·Σ c_j (`offsetSum`, once per activation block,
/// `TokenBlockScales`) off it.
enum Q4_0x8: RowInterleaving {
    static let rowsPerGroup = 8
    static let blockBytes = 144
    static var format: any BlockFormat.Type { Q4_0Format.self }

    /// Row r's block into its slots: its scale, and its four 4-byte pieces of codes.
    static func place(_ block: UnsafeRawPointer, row r: Int, into out: UnsafeMutableRawPointer) {
        out.storeBytes(of: block.loadUnaligned(fromByteOffset: Q4_0Format.scaleOffset, as: UInt16.self),
                       toByteOffset: 2 * r, as: UInt16.self)
        for k in 0..<4 {
            out.storeBytes(of: block.loadUnaligned(fromByteOffset: Q4_0Format.codesOffset + 4 * k, as: UInt32.self),
                           toByteOffset: 16 + 32 * k + 4 * r, as: UInt32.self)
        }
    }

    /// Row r's block back out of its slots, as the file has it.
    static func unplace(_ group: UnsafeRawPointer, row r: Int, into block: UnsafeMutableRawPointer) {
        block.storeBytes(of: group.loadUnaligned(fromByteOffset: 2 * r, as: UInt16.self), toByteOffset: Q4_0Format.scaleOffset, as: UInt16.self)
        for k in 0..<4 {
            block.storeBytes(of: group.loadUnaligned(fromByteOffset: 16 + 32 * k + 4 * r, as: UInt32.self),
                             toByteOffset: Q4_0Format.codesOffset + 4 * k, as: UInt32.self)
        }
    }

    /// A block's codes, unsigned (0…15): low[k] and high[k] are chunk k's low and high
    /// nibbles, Int32 lane r = row r's four elements.
    struct Codes {
        var low0, high0, low1, high1, low2, high2, low3, high3: __m256i
        @inline(__always) init(_ x: UnsafeRawPointer) {
            let mask = _mm256_set1_epi8(0x0F)
            @inline(__always) func chunk(_ k: Int) -> __m256i { x.loadUnaligned(fromByteOffset: 16 + 32 * k, as: __m256i.self) }
            @inline(__always) func high(_ v: __m256i) -> __m256i { _mm256_and_si256(_mm256_srli_epi16(v, 4), mask) }
            let c0 = chunk(0), c1 = chunk(1), c2 = chunk(2), c3 = chunk(3)
            low0 = _mm256_and_si256(c0, mask); high0 = high(c0)
            low1 = _mm256_and_si256(c1, mask); high1 = high(c1)
            low2 = _mm256_and_si256(c2, mask); high2 = high(c2)
            low3 = _mm256_and_si256(c3, mask); high3 = high(c3)
        }
    }

    /// Lane r = Σ_j u_rj·c_j over one block (exact), for activation codes c (32 bytes at
    /// `c`). Each vpmaddubsw meets one chunk with four codes broadcast; the eight Int16
    /// results are added as Int16 before one vpmaddwd: a lane of one is at most 2·15·127,
    /// of eight 30 480 < 2^15.
    @inline(__always)
    static func unsignedSums(_ q: Codes, _ c: UnsafeRawPointer) -> __m256i {
        @inline(__always) func codes(_ o: Int) -> __m256i { _mm256_set1_epi32(c.loadUnaligned(fromByteOffset: o, as: Int32.self)) }
        let s0 = _mm256_add_epi16(_mm256_maddubs_epi16(q.low0, codes(0)), _mm256_maddubs_epi16(q.high0, codes(16)))
        let s1 = _mm256_add_epi16(_mm256_maddubs_epi16(q.low1, codes(4)), _mm256_maddubs_epi16(q.high1, codes(20)))
        let s2 = _mm256_add_epi16(_mm256_maddubs_epi16(q.low2, codes(8)), _mm256_maddubs_epi16(q.high2, codes(24)))
        let s3 = _mm256_add_epi16(_mm256_maddubs_epi16(q.low3, codes(12)), _mm256_maddubs_epi16(q.high3, codes(28)))
        return _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(s0, s1), _mm256_add_epi16(s2, s3)), _mm256_set1_epi16(1))
    }

    /// One block for one token: acc + (Σ u·c − 8·Σ c)·(d_w·d_a), lane r for row r.
    /// `s`: the token's (d_a, 8·Σ c) for this block (`TokenBlockScales`).
    @inline(__always)
    static func step(_ q: Codes, _ dw: SIMD8<Float>, _ c: UnsafeRawPointer, _ s: UnsafeRawPointer, _ acc: SIMD8<Float>) -> SIMD8<Float> {
        let total = _mm256_sub_epi32(unsignedSums(q, c), _mm256_set1_epi32(s.loadUnaligned(fromByteOffset: 4, as: Int32.self)))
        return acc.addingProduct(floats8(total), dw * SIMD8<Float>(repeating: s.loadUnaligned(as: Float.self)))
    }

    /// The eight rows' scales d_w as floats (one vcvtph2ps).
    @inline(__always)
    static func scales(_ x: UnsafeRawPointer) -> SIMD8<Float> {
        unsafeBitCast(_mm256_cvtph_ps(x.loadUnaligned(as: __m128i.self)), to: SIMD8<Float>.self)
    }

    /// Decode: lane r = repackedDotReference(row 8g + r, a) for the group at `x`, one Q8_0
    /// activation row `a` and its `TokenBlockScales` row `s`.
    @inline(__always)
    static func dotRows8(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, _ s: UnsafeRawPointer, blocks: Int) -> SIMD8<Float> {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let xb = x + b * blockBytes
            // The lines `prefetchAhead` bytes on (LMKernelsVNNI's Prefetch.swift: a decode streams its weights).
            lm_prefetch(xb + prefetchAhead); lm_prefetch(xb + prefetchAhead + 64); lm_prefetch(xb + prefetchAhead + 128)
            acc = step(Codes(xb), scales(xb), a + b * Q8_0Format.blockBytes + Q8_0Format.codesOffset, s + 8 * b, acc)
        }
        return acc
    }

    /// Prefill: `dotRows8` for four activation rows (`a`, `ab` bytes apart; their
    /// `TokenBlockScales` rows `sb` bytes apart from `s`), each block's codes unpacked once.
    @inline(__always)
    static func dotRows8Tokens4(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, ab: Int, _ s: UnsafeRawPointer, sb: Int,
                                blocks: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        for b in 0..<blocks {
            let xb = x + b * blockBytes, q = Codes(xb), dw = scales(xb)
            let c = a + b * Q8_0Format.blockBytes + Q8_0Format.codesOffset, sc = s + 8 * b
            acc0 = step(q, dw, c, sc, acc0)
            acc1 = step(q, dw, c + ab, sc + sb, acc1)
            acc2 = step(q, dw, c + 2 * ab, sc + 2 * sb, acc2)
            acc3 = step(q, dw, c + 3 * ab, sc + 3 * sb, acc3)
        }
        return (acc0, acc1, acc2, acc3)
    }
}

/// What the interleaved kernels read of each activation block, made once per matmul:
/// for token t and block b, at 8·(t·blocks + b) bytes, d_a as Float and 8·Σ c_j as Int32.
enum TokenBlockScales {
    static func bytes(n: Int, cols: Int) -> Int { 8 * n * (cols / 32) }

    static func write(_ a: UnsafeRawPointer, rowBytes: Int, cols: Int, n: Int, into dst: UnsafeMutableRawPointer) {
        let blocks = cols / 32, halves = HalfTable.floats
        for t in 0..<n {
            for b in 0..<blocks {
                let block = a + t * rowBytes + b * Q8_0Format.blockBytes
                let out = dst + 8 * (t * blocks + b)
                out.storeBytes(of: HalfTable.at(block, Q8_0Format.scaleOffset, halves), as: Float.self)
                out.storeBytes(of: Q4_0Format.offsetSum(block.loadUnaligned(fromByteOffset: Q8_0Format.codesOffset, as: __m256i.self)),
                               toByteOffset: 4, as: Int32.self)
            }
        }
    }
}

/// A layout of a block format's rows interleaved `rowsPerGroup` at a time (`Q4_0x8`,
/// `Q4_Kx16`, `Q8_0x16`): group g's block b sits at (g·blocks + b)·blockBytes, and `place` puts one
/// row's block into its slots there.
protocol RowInterleaving {
    static var rowsPerGroup: Int { get }
    /// Bytes of one block of a whole group.
    static var blockBytes: Int { get }
    static var format: any BlockFormat.Type { get }
    static func place(_ block: UnsafeRawPointer, row r: Int, into out: UnsafeMutableRawPointer)
    /// The inverse of `place`: row r's block, as the file has it, from the group's block.
    static func unplace(_ group: UnsafeRawPointer, row r: Int, into block: UnsafeMutableRawPointer)
}

extension RowInterleaving {
    /// Bytes of one group of rows of `cols` elements.
    static func groupBytes(cols: Int) -> Int { cols / format.type.blockSize * blockBytes }

    /// The interleaved copy of w's rows (a multiple of `rowsPerGroup`). The plain loop: it
    /// runs once per matrix, at load. `copied(bytes)`, every 4 MiB or so: the first `bytes`
    /// of w's rows are copied (the loader gives those pages back as it goes, so a large
    /// matrix is never resident twice).
    static func copy(of w: WeightMatrix, copied: ((Int) -> Void)? = nil) -> InterleavedRows {
        let blocks = w.cols / format.type.blockSize, sourceBlockBytes = w.rowBytes / blocks
        let storage = InterleavedRows.Storage(byteCount: w.rows / rowsPerGroup * groupBytes(cols: w.cols))
        let sourceGroupBytes = rowsPerGroup * w.rowBytes, report = max(1, (4 << 20) / sourceGroupBytes)
        for g in 0..<w.rows / rowsPerGroup {
            for b in 0..<blocks {
                for r in 0..<rowsPerGroup {
                    place(w.row(rowsPerGroup * g + r) + b * sourceBlockBytes, row: r, into: storage.bytes + (g * blocks + b) * blockBytes)
                }
            }
            if (g + 1) % report == 0 { copied?((g + 1) * sourceGroupBytes) }
        }
        return InterleavedRows(storage: storage, base: UnsafeRawPointer(storage.bytes), layout: self, rowsPerGroup: rowsPerGroup,
                               groupBytes: groupBytes(cols: w.cols))
    }
}

extension InterleavedRows {
    /// Row r (counted from `base`) as the file has it, into `out` (`blocks` blocks of
    /// `blockBytes` each): the embedding lookups of a tied head, whose file pages were
    /// given back (reading them would map them again, 64 KiB of fault-around a token).
    func storedRow(_ r: Int, blocks: Int, blockBytes: Int, into out: UnsafeMutableRawPointer) {
        let group = base + r / rowsPerGroup * groupBytes, slot = r % rowsPerGroup
        for b in 0..<blocks { layout.unplace(group + b * layout.blockBytes, row: slot, into: out + b * blockBytes) }
    }
}

/// An interleaved copy of a matrix's rows (`Q4_0x8`, `Q4_Kx16`, `Q8_0x16`), owned here; `base` may
/// point inside it for a matrix's row range (`WeightMatrix.rows`). Groups of
/// `rowsPerGroup` rows, `groupBytes` each, one after another.
public struct InterleavedRows: @unchecked Sendable {
    final class Storage {
        let bytes: UnsafeMutableRawPointer
        init(byteCount: Int) { bytes = .allocate(byteCount: max(1, byteCount), alignment: 64) }
        deinit { bytes.deallocate() }
    }
    let storage: Storage
    let base: UnsafeRawPointer
    let layout: any RowInterleaving.Type
    let rowsPerGroup: Int
    let groupBytes: Int
}
