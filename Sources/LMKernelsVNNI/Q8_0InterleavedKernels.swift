import _Builtin_intrinsics.intel
/// Q8_0 weights interleaved sixteen rows at a time (LMEngine's `Q8_0x16` makes the copy
/// and describes the layout), dotted against Q8_0 activations with 512-bit vpdpbusd:
/// Int32 lane r is row r, so one broadcast of four activation codes meets sixteen rows.
///
/// The sums are the lane order's (`dotRowLanes` in LMEngine, llama.cpp's
/// `ggml_vec_dot_q8_0_q8_0`): per block, eight group sums over elements 4g…4g+3, each
/// into its own float chain acc_g = fma(Σ_g, d_w·d_a, acc_g), and at the end
/// `hsum8`'s tree over the eight chains. There one row's eight chains sit in one vector's
/// lanes; here group g's chains of sixteen rows sit in vector acc_g, and the tree runs
/// across the eight vectors: the same additions in the same order, so the same bits.
/// The codes are stored as unsigned bytes u = q + 128 and each group's sum starts at
/// −128·Σ c (`VNNIKernels.writeGroupOffsets`), as in VNNIKernels.swift.
public enum Q8_0InterleavedKernels {
    /// Bytes of one block (32 elements) of sixteen rows: 8 groups × 16 rows × 4 codes,
    /// then the 16 scales.
    public static let blockBytes = 544
    static let scalesOffset = 512
    // The Q8_0 activation block: d (fp16), qs[32].
    static let activationBytes = 34, activationCodes = 2

    /// One group's eight chains (sixteen rows each).
    struct Chains {
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
        var c4 = SIMD16<Float>(), c5 = SIMD16<Float>(), c6 = SIMD16<Float>(), c7 = SIMD16<Float>()

        /// Block `x` against the activation block `y` (its group offsets at `o`):
        /// chain g += float(Σ_g u·c − 128·Σ_g c) · (d_w·d_a).
        @inline(__always) mutating func add(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ o: UnsafeRawPointer, _ ds: SIMD16<Float>) {
            @inline(__always) func sums(_ g: Int) -> SIMD16<Float> {
                let start = _mm512_set1_epi32(o.loadUnaligned(fromByteOffset: 4 * g, as: Int32.self))
                let c = _mm512_set1_epi32(y.loadUnaligned(fromByteOffset: activationCodes + 4 * g, as: Int32.self))
                return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, x.loadUnaligned(fromByteOffset: 64 * g, as: __m512i.self), c))
            }
            c0 = c0.addingProduct(sums(0), ds); c1 = c1.addingProduct(sums(1), ds)
            c2 = c2.addingProduct(sums(2), ds); c3 = c3.addingProduct(sums(3), ds)
            c4 = c4.addingProduct(sums(4), ds); c5 = c5.addingProduct(sums(5), ds)
            c6 = c6.addingProduct(sums(6), ds); c7 = c7.addingProduct(sums(7), ds)
        }

        /// `hsum8` lane by lane: (c0+c4 + c2+c6) + (c1+c5 + c3+c7).
        @inline(__always) var total: SIMD16<Float> {
            let f0 = c0 + c4, f1 = c1 + c5, f2 = c2 + c6, f3 = c3 + c7
            return (f0 + f2) + (f1 + f3)
        }
    }

    /// d_w·d_a for the block's sixteen rows.
    @inline(__always) static func scales(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ halves: UnsafePointer<Float>) -> SIMD16<Float> {
        _mm512_cvtph_ps(x.loadUnaligned(fromByteOffset: scalesOffset, as: __m256i.self))
            * SIMD16<Float>(repeating: halves[Int(y.loadUnaligned(as: UInt16.self))])
    }

    /// Decode: out[r] = the dot of row r of the group at `x` (`blocks` blocks) with the
    /// activation row `a`, whose group offsets are at `offsets` (32 bytes a block).
    @inline(__always)
    public static func dotRows16(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, offsets: UnsafeRawPointer, blocks: Int,
                                 halves: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        var chains = Chains()
        for b in 0..<blocks {
            let xb = x + b * blockBytes, y = a + b * activationBytes
            prefetch(xb + prefetchAhead, bytes: blockBytes)
            chains.add(xb, y, offsets + 32 * b, scales(xb, y, halves))
        }
        UnsafeMutableRawPointer(out).storeBytes(of: chains.total, as: SIMD16<Float>.self)
    }

    /// Prefill: `dotRows16` for two activation rows (`a`, `a + rowBytes`; offsets
    /// `offsetBytes` apart), each block's codes read once for both. out: row 0's sixteen
    /// outputs, `outStride` floats on row 1's.
    @inline(__always)
    public static func dotRows16Tokens2(_ x: UnsafeRawPointer, _ a: UnsafeRawPointer, rowBytes: Int, offsets: UnsafeRawPointer,
                                        offsetBytes: Int, blocks: Int, halves: UnsafePointer<Float>,
                                        out: UnsafeMutablePointer<Float>, outStride: Int) {
        var chains0 = Chains(), chains1 = Chains()
        for b in 0..<blocks {
            let xb = x + b * blockBytes, y0 = a + b * activationBytes, y1 = y0 + rowBytes
            let o0 = offsets + 32 * b, o1 = o0 + offsetBytes
            chains0.add(xb, y0, o0, scales(xb, y0, halves))
            chains1.add(xb, y1, o1, scales(xb, y1, halves))
        }
        UnsafeMutableRawPointer(out).storeBytes(of: chains0.total, as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(out + outStride).storeBytes(of: chains1.total, as: SIMD16<Float>.self)
    }
}
