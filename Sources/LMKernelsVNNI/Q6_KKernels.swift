import _Builtin_intrinsics.intel
/// Q6_K's dots (LMEngine's Q6_KFormat: `dot`, `dotTiled`, `dotTokens4`, `dotTokens4Tiled`)
/// with 512-bit byte products: each vector takes two groups of 32 codes of one half of a
/// super-block (m and m+1), whose 64 codes, 64 activations and four sub-block scales
/// lie side by side, so one instruction does what two do in the AVX2 kernels. Int32 lane
/// k of each 256-bit half holds the group's elements 4k…4k+3; the two halves are added at
/// the end of the super-block, giving exactly the AVX2 kernel's eight lanes (exact
/// integers), so the float steps — the same as LMEngine's — give the same bits.
public enum Q6_KKernels {
    static let blockBytes = 210, activationBytes = 292

    /// Both 256-bit halves of a zmm set to v.
    @inline(__always) static func twice(_ v: SIMD8<Int32>) -> __m512i { unsafeBitCast(SIMD16<Int32>(lowHalf: v, highHalf: v), to: __m512i.self) }

    /// The super-block's codes and scales for the pair of groups (m, m+1), m = 0 or 2, of half h.
    @inline(__always)
    static func pair(_ x: UnsafeRawPointer, _ h: Int, _ m: Int) -> (codes: __m512i, scales: __m512i) {
        let ql = x.loadUnaligned(fromByteOffset: 64 * h, as: __m512i.self)
        let nibbles = _mm512_and_si512(m == 0 ? ql : _mm512_srli_epi16(ql, 4), _mm512_set1_epi8(0x0F))
        // bits 2m, 2m+1 of each qh byte to bits 4, 5: m = 0 << 4, 1 << 2, 2 as is, 3 >> 2
        let qh = twice(x.loadUnaligned(fromByteOffset: 128 + 32 * h, as: SIMD8<Int32>.self))
        let moved = m == 0 ? _mm512_sllv_epi16(qh, twoCounts(4, 2)) : _mm512_srlv_epi16(qh, twoCounts(0, 2))
        let codes = _mm512_or_si512(nibbles, _mm512_and_si512(moved, _mm512_set1_epi8(0x30)))
        // Half h's eight scales as Int16 words 0…7 of every 128-bit lane; lane j takes
        // (group m's two sub-blocks in lanes 0, 1, group m+1's in lanes 2, 3): word 2m + j.
        // (vpmovsxbw by name: the standard library's generic widening stays an out-of-line call)
        let words = _mm_cvtepi8_epi16(_mm_cvtsi64_si128(x.loadUnaligned(fromByteOffset: 192 + 8 * h, as: Int64.self)))
        let w4 = unsafeBitCast(words, to: SIMD4<Int32>.self)
        let all = unsafeBitCast(SIMD16<Int32>(lowHalf: SIMD8(lowHalf: w4, highHalf: w4), highHalf: SIMD8(lowHalf: w4, highHalf: w4)), to: __m512i.self)
        @inline(__always) func pick(_ j: Int) -> SIMD4<Int32> {
            let byte = Int32(2 * (2 * m + j)), two = byte | (byte + 1) << 8   // word 2m + j
            return SIMD4(repeating: two | two << 16)
        }
        let control = unsafeBitCast(SIMD16<Int32>(lowHalf: SIMD8(lowHalf: pick(0), highHalf: pick(1)), highHalf: SIMD8(lowHalf: pick(2), highHalf: pick(3))), to: __m512i.self)
        return (codes, _mm512_shuffle_epi8(all, control))
    }

    /// 16-bit shift counts: a in the low 256 bits, b in the high.
    @inline(__always) static func twoCounts(_ a: Int16, _ b: Int16) -> __m512i {
        unsafeBitCast(SIMD32<Int16>(lowHalf: SIMD16(repeating: a), highHalf: SIMD16(repeating: b)), to: __m512i.self)
    }

    /// The super-block's eight lanes for k activation rows y[0..<k], the −32 offset taken off.
    @inline(__always)
    static func blockLanes(_ x: UnsafeRawPointer, _ ys: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer), tokens: Int)
        -> (SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>) {
        var l0 = _mm512_setzero_si512(), l1 = l0, l2 = l0, l3 = l0
        for h in 0..<2 {
            for m in stride(from: 0, to: 4, by: 2) {
                let (codes, scales) = pair(x, h, m)
                let offset = 4 + 128 * h + 32 * m
                @inline(__always) func lanes(_ y: UnsafeRawPointer) -> __m512i {
                    _mm512_madd_epi16(_mm512_maddubs_epi16(codes, y.loadUnaligned(fromByteOffset: offset, as: __m512i.self)), scales)
                }
                l0 = _mm512_add_epi32(l0, lanes(ys.0))
                if tokens > 1 { l1 = _mm512_add_epi32(l1, lanes(ys.1)); l2 = _mm512_add_epi32(l2, lanes(ys.2)); l3 = _mm512_add_epi32(l3, lanes(ys.3)) }
            }
        }
        let allScales = _mm256_cvtepi8_epi16(x.loadUnaligned(fromByteOffset: 192, as: __m128i.self))
        @inline(__always) func finish(_ l: __m512i, _ y: UnsafeRawPointer) -> SIMD8<Int32> {
            let v = unsafeBitCast(l, to: SIMD16<Int32>.self)
            let sums = y.loadUnaligned(fromByteOffset: 260, as: __m256i.self)   // 16 × Int16 bsums
            let offset = unsafeBitCast(_mm256_slli_epi32(_mm256_madd_epi16(sums, allScales), 5), to: SIMD8<Int32>.self)
            return (v.lowHalf &+ v.highHalf) &- offset
        }
        return tokens > 1 ? (finish(l0, ys.0), finish(l1, ys.1), finish(l2, ys.2), finish(l3, ys.3)) : (finish(l0, ys.0), .zero, .zero, .zero)
    }

    @inline(__always) static func dw(_ x: UnsafeRawPointer, _ halves: UnsafePointer<Float>) -> Float {
        halves[Int(x.loadUnaligned(fromByteOffset: 208, as: UInt16.self))]
    }
    @inline(__always) static func da(_ y: UnsafeRawPointer) -> Float { y.loadUnaligned(as: Float.self) }

    /// Q6_KFormat.dot: lane order, fma(d_a·d_w, lane, acc) per super-block, hsum8 at the end.
    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, halves: UnsafePointer<Float>) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * activationBytes
            let lanes = blockLanes(x, (y, y, y, y), tokens: 1).0
            acc = acc.addingProduct(SIMD8<Float>(repeating: da(y) * dw(x, halves)), floats8(unsafeBitCast(lanes, to: __m256i.self)))
        }
        return hsum8(acc)
    }

    /// Q6_KFormat.dotTiled: acc = fma(total·d_w, d_a, acc) per super-block.
    public static func dotTiled(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, halves: UnsafePointer<Float>) -> Float {
        var acc: Float = 0
        for b in 0..<count / 256 {
            let x = w + b * blockBytes, y = a + b * activationBytes
            acc = acc.addingProduct(Float(blockLanes(x, (y, y, y, y), tokens: 1).0.wrappedSum()) * dw(x, halves), da(y))
        }
        return acc
    }

    /// Q6_KFormat.dotTokens4 (tiled: false) or dotTokens4Tiled (tiled: true) for the
    /// activation rows a + k·stride, k = 0…3.
    public static func dotTokens4(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, stride: Int, count: Int, tiled: Bool,
                                  halves: UnsafePointer<Float>) -> SIMD4<Float> {
        tiled ? tokens4(w, a, stride: stride, count: count, tiled: true, halves: halves)
              : tokens4(w, a, stride: stride, count: count, tiled: false, halves: halves)
    }

    @inline(__always)
    static func tokens4(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, stride: Int, count: Int, tiled: Bool,
                        halves: UnsafePointer<Float>) -> SIMD4<Float> {
        var acc0 = SIMD8<Float>(), acc1 = acc0, acc2 = acc0, acc3 = acc0
        var accTiled = SIMD4<Float>()
        for b in 0..<count / 256 {
            let x = w + b * blockBytes
            let y0 = a + b * activationBytes, y1 = y0 + stride, y2 = y1 + stride, y3 = y2 + stride
            let (i0, i1, i2, i3) = blockLanes(x, (y0, y1, y2, y3), tokens: 4)
            let d = dw(x, halves)
            if tiled {
                let totals = SIMD4<Float>(Float(i0.wrappedSum()), Float(i1.wrappedSum()), Float(i2.wrappedSum()), Float(i3.wrappedSum()))
                accTiled = accTiled.addingProduct(totals * SIMD4(repeating: d), SIMD4<Float>(da(y0), da(y1), da(y2), da(y3)))
            } else {
                @inline(__always) func f(_ v: SIMD8<Int32>) -> SIMD8<Float> { floats8(unsafeBitCast(v, to: __m256i.self)) }
                acc0 = acc0.addingProduct(SIMD8<Float>(repeating: da(y0) * d), f(i0))
                acc1 = acc1.addingProduct(SIMD8<Float>(repeating: da(y1) * d), f(i1))
                acc2 = acc2.addingProduct(SIMD8<Float>(repeating: da(y2) * d), f(i2))
                acc3 = acc3.addingProduct(SIMD8<Float>(repeating: da(y3) * d), f(i3))
            }
        }
        return tiled ? accTiled : SIMD4<Float>(hsum8(acc0), hsum8(acc1), hsum8(acc2), hsum8(acc3))
    }
}
