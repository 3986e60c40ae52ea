import Foundation

/// gate[i] = silu(gate[i]) · up[i], silu(v) = v / (1 + e^-v).   gate, up: [count].
/// The SwiGLU feed-forward of llama-style models.
///
/// As llama.cpp's CPU backend computes it (`ggml_vec_swiglu_f32`, AVX-512 build): whole
/// groups of 16 use ggml's vector exp (`ggmlExp`, a polynomial within 1.5 ulp of expf),
/// the last count % 16 elements use the C library's expf. Reproducing that, not just
/// "a good exp", is what keeps lmlab's logits bit-equal to llama.cpp's.
public func siluGate(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int, mode: KernelMode = .fast) {
    let whole = count - count % 16
    if mode == .reference {
        for i in 0..<whole {
            let v = gate[i]
            gate[i] = v / (1 + ggmlExp(0 - v)) * up[i]
        }
    } else {
        let g = UnsafeMutableRawPointer(gate), u = UnsafeRawPointer(up)
        var i = 0
        while i < whole {
            let v = g.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            let s = v / (1 + ggmlExp16(SIMD16<Float>() - v))
            g.storeBytes(of: s * u.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self), toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
    }
    for i in whole..<count {
        let v = gate[i]
        gate[i] = v / (1 + expf(-v)) * up[i]
    }
}

// MARK: - ggml's vector exp

// The constants of ggml_v_expf (from ARM's optimized routines): x = n·ln2 + b with n an
// integer and |b| ≤ ln2/2, ln2 split in two parts for accuracy; e^b by a degree-5
// polynomial; the result scaled by 2^n.
private let expShift: Float = 0x1.8p23         // adding it rounds to an integer
private let log2e: Float = 0x1.715476p+0
private let ln2High: Float = 0x1.62e4p-1
private let ln2Low: Float = 0x1.7f7d1cp-20
private let c5: Float = 0x1.0e4020p-7, c4: Float = 0x1.573e2ep-5, c3: Float = 0x1.555e66p-3
private let c2: Float = 0x1.fffdb6p-2, c1: Float = 0x1.ffffecp-1

/// e^x as ggml's AVX-512 `ggml_v_expf` computes it, one lane: every step is the same fused
/// multiply-add or operation, so the result is bit-identical to ggml's.
public func ggmlExp(_ x: Float) -> Float {
    // NaN in, NaN out (a corrupt model's weights can produce one); Int(n) below would trap.
    if x.isNaN { return x }
    let z = expShift.addingProduct(x, log2e)          // fma(x, log2e, shift)
    let n = z - expShift                              // round(x·log2e) as a float
    let b = x.addingProduct(-n, ln2High).addingProduct(-n, ln2Low)
    // Far outside float's range the answer is 0 or ∞ (and 2^n's bit pattern below would go negative).
    if n > 192 { return .infinity }
    if n < -191 { return 0 }
    let u = b * b
    let p = c4.addingProduct(c5, b).addingProduct0(u, c2.addingProduct(c3, b))
    let j = p.addingProduct0(u, Float(1).addingProduct(c1, b))
    return scaleByPowerOfTwo(j, Int(n))
}

extension Float {
    /// fma(self, a, b) = self·a + b, rounded once (the argument order of _mm512_fmadd_ps).
    @inline(__always) fileprivate func addingProduct0(_ a: Float, _ b: Float) -> Float { b.addingProduct(self, a) }
}

/// j · 2^n rounded once, as AVX-512's `vscalefps` (n an integer).
@inline(__always)
func scaleByPowerOfTwo(_ j: Float, _ n: Int) -> Float {
    if n >= -126 && n <= 127 { return j * Float(bitPattern: UInt32(n + 127) << 23) }
    if n > 127 { return j * Float(bitPattern: UInt32(254) << 23) * Float(bitPattern: UInt32(n - 127 + 127) << 23) }
    // Below the normal range: an exact step down by 2^-64, then the one rounding step.
    return (j * 0x1p-64) * Float(bitPattern: UInt32(n + 64 + 127) << 23)
}

/// `ggmlExp` on 16 lanes at once (one AVX-512 register's worth), bit-identical to it.
@inline(__always)
public func ggmlExp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    typealias V = SIMD16<Float>
    let z = V(repeating: expShift).addingProduct(x, V(repeating: log2e))
    let n = z - V(repeating: expShift)
    let b = x.addingProduct(-n, V(repeating: ln2High)).addingProduct(-n, V(repeating: ln2Low))
    let u = b * b
    let p = V(repeating: c2).addingProduct(V(repeating: c3), b)
        .addingProduct(V(repeating: c4).addingProduct(V(repeating: c5), b), u)
    let j = V(repeating: 1).addingProduct(V(repeating: c1), b).addingProduct(p, u)
    // n sits in the low bits of z (z = 1.5·2^23 + n), so 2^n's exponent field is n + 127.
    let nBits = unsafeBitCast(z, to: SIMD16<Int32>.self) &- 0x4B40_0000
    // -126 ≤ n ≤ 127  ⇔  t = n + 126 is ≥ 0 (sign bit clear) and t − 254 < 0 (sign bit
    // set); written with shifts, not vector compares (LaneMasks.swift).
    let t = nBits &+ 126
    if allLanes(((t &- 254) &>> 31) & ~(t &>> 31)) {
        return j * unsafeBitCast((nBits &+ 127) &<< 23, to: V.self)
    }
    var out = V()
    for i in 0..<16 { out[i] = ggmlExp(x[i]) }   // rare: |x| > 87, one lane at a time
    return out
}
