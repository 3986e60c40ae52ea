// Why a Q4_0 × Q8_0 row dot costs what it costs on this CPU: six shapes of the
// same block dot (four for decode, two for prefill), timed on one SmolLM2-sized matrix (576 rows × 1536 columns, Q4_0,
// ~0.5 MB, so it stays in L2 and memory is out of the picture).
//
//   swiftc -O -target-cpu haswell scripts/blockdot-shapes.swift -o /tmp/blockdot && /tmp/blockdot
//
// Every shape gives the same floats (checked), in llama.cpp's order: per block, 8
// integer group sums → float → one fma into 8 running lanes.
import Foundation

func threadSeconds() -> Double {
    var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
let halfTable: UnsafeMutablePointer<Float> = {
    let t = UnsafeMutablePointer<Float>.allocate(capacity: 65536)
    for i in 0..<65536 { t[i] = Float(Float16(bitPattern: UInt16(i))) }
    return t
}()
@inline(__always) func half(_ p: UnsafeRawPointer, _ o: Int) -> Float { halfTable[Int(p.loadUnaligned(fromByteOffset: o, as: UInt16.self))] }
@inline(__always) func hsum8(_ v: SIMD8<Float>) -> Float { let f = v.lowHalf + v.highHalf; let t = f.lowHalf + f.highHalf; return t[0] + t[1] }
@inline(__always) func addPairsFittingInt16(_ p: SIMD16<Int16>) -> SIMD8<Int32> {
    let v = unsafeBitCast(p, to: SIMD8<Int32>.self); return (v &+ (v &<< 16)) &>> 16
}

// Shape 1, lmlab's kernel: nibbles → (even, odd) Int16 lanes, products with vpmullw
// against activation codes split into Int16 once per matrix (64 bytes a block).
@inline(__always) func unpackQ4_0(_ x: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
    let q = x.loadUnaligned(fromByteOffset: 2, as: SIMD8<UInt16>.self) ^ 0x8888
    let v = unsafeBitCast(SIMD16<UInt16>(lowHalf: q, highHalf: q &>> 4), to: SIMD16<Int16>.self)
    return ((v &<< 12) &>> 12, (v &<< 4) &>> 12)
}
@inline(never) func rowInt16(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ codes: UnsafeRawPointer, _ blocks: Int) -> Float {
    var acc = SIMD8<Float>(); var x = w, y = a, c = codes
    for _ in 0..<blocks {
        let u = unpackQ4_0(x)
        let p = u.0 &* c.load(as: SIMD16<Int16>.self) &+ u.1 &* c.load(fromByteOffset: 32, as: SIMD16<Int16>.self)
        acc = acc.addingProduct(SIMD8<Float>(addPairsFittingInt16(p)), SIMD8(repeating: half(x, 0) * half(y, 0)))
        x += 18; y += 34; c += 64
    }
    return hsum8(acc)
}

// Shape 2: the same, four rows per pass (four independent fma chains).
@inline(never) func rows4Int16(_ w: UnsafeRawPointer, _ rowBytes: Int, _ a: UnsafeRawPointer, _ codes: UnsafeRawPointer, _ blocks: Int) -> SIMD4<Float> {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var x = w, y = a, c = codes
    for _ in 0..<blocks {
        let ye = c.load(as: SIMD16<Int16>.self), yo = c.load(fromByteOffset: 32, as: SIMD16<Int16>.self)
        let dy = half(y, 0)
        @inline(__always) func groups(_ x: UnsafeRawPointer) -> SIMD8<Float> {
            let u = unpackQ4_0(x); return SIMD8<Float>(addPairsFittingInt16(u.0 &* ye &+ u.1 &* yo))
        }
        a0 = a0.addingProduct(groups(x), SIMD8(repeating: half(x, 0) * dy))
        a1 = a1.addingProduct(groups(x + rowBytes), SIMD8(repeating: half(x + rowBytes, 0) * dy))
        a2 = a2.addingProduct(groups(x + 2 * rowBytes), SIMD8(repeating: half(x + 2 * rowBytes, 0) * dy))
        a3 = a3.addingProduct(groups(x + 3 * rowBytes), SIMD8(repeating: half(x + 3 * rowBytes, 0) * dy))
        x += 18; y += 34; c += 64
    }
    return SIMD4(hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3))
}

// Shape 3: vpmaddubsw (u8 × s8 → pairs summed in Int16), which Swift has no name for
// but LLVM selects for this saturating loop over memory. LLVM drops the saturation
// (and with it the instruction) when it can prove the bytes are small, so the nibble
// mask comes from a value it can't see (`opaqueMask`). Weights as unsigned nibbles,
// so Σ(q−8)·a = Σ q·a − 8·Σ a: the second term per pair is made once per matrix.
@inline(__always) func madduBytes(_ u: UnsafeRawPointer, _ s: UnsafeRawPointer) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    withUnsafeMutableBytes(of: &r) { out in
        let o = out.baseAddress!.assumingMemoryBound(to: Int16.self)
        let a = u.assumingMemoryBound(to: UInt8.self), b = s.assumingMemoryBound(to: Int8.self)
        for k in 0..<16 {
            let p = Int32(a[2 * k]) &* Int32(b[2 * k]) &+ Int32(a[2 * k + 1]) &* Int32(b[2 * k + 1])
            o[k] = Int16(truncatingIfNeeded: max(-32768, min(32767, p)))
        }
    }
    return r
}
nonisolated(unsafe) var opaqueMask: UInt8 = 0x0F
@inline(never) func rowMaddubs(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ pairSums8: UnsafeRawPointer, _ blocks: Int) -> Float {
    var acc = SIMD8<Float>(); var x = w, y = a, ps = pairSums8
    let mask = SIMD16<UInt8>(repeating: opaqueMask), zero = SIMD16<UInt8>(repeating: opaqueMask &- 15)
    for _ in 0..<blocks {
        let q = x.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        let u = SIMD32<UInt8>(lowHalf: q & mask, highHalf: (q &>> 4) & mask | zero)
        let p = withUnsafeBytes(of: u) { madduBytes($0.baseAddress!, y + 2) } &- ps.load(as: SIMD16<Int16>.self)
        acc = acc.addingProduct(SIMD8<Float>(addPairsFittingInt16(p)), SIMD8(repeating: half(x, 0) * half(y, 0)))
        x += 18; y += 34; ps += 32
    }
    return hsum8(acc)
}

// Shape 4 (timing only, not llama.cpp's result): shape 1 with the float chain removed
// — integer group sums accumulated, one conversion at the end.
@inline(never) func rowIntegerOnly(_ w: UnsafeRawPointer, _ codes: UnsafeRawPointer, _ blocks: Int) -> Float {
    var acc = SIMD8<Int32>(); var x = w, c = codes
    for _ in 0..<blocks {
        let u = unpackQ4_0(x)
        acc &+= addPairsFittingInt16(u.0 &* c.load(as: SIMD16<Int16>.self) &+ u.1 &* c.load(fromByteOffset: 32, as: SIMD16<Int16>.self))
        x += 18; c += 64
    }
    return Float(acc.wrappedSum())
}

// Prefill shapes: one weight row against four tokens' activations (four chains, the
// weight block unpacked once).
@inline(never) func tokens4Int16(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ aStride: Int, _ codes: UnsafeRawPointer, _ cStride: Int, _ blocks: Int) -> SIMD4<Float> {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var x = w, y = a, c = codes
    for _ in 0..<blocks {
        let u = unpackQ4_0(x)
        let dw = half(x, 0)
        @inline(__always) func groups(_ c: UnsafeRawPointer) -> SIMD8<Float> {
            SIMD8<Float>(addPairsFittingInt16(u.0 &* c.load(as: SIMD16<Int16>.self) &+ u.1 &* c.load(fromByteOffset: 32, as: SIMD16<Int16>.self)))
        }
        a0 = a0.addingProduct(groups(c), SIMD8(repeating: dw * half(y, 0)))
        a1 = a1.addingProduct(groups(c + cStride), SIMD8(repeating: dw * half(y + aStride, 0)))
        a2 = a2.addingProduct(groups(c + 2 * cStride), SIMD8(repeating: dw * half(y + 2 * aStride, 0)))
        a3 = a3.addingProduct(groups(c + 3 * cStride), SIMD8(repeating: dw * half(y + 3 * aStride, 0)))
        x += 18; y += 34; c += 64
    }
    return SIMD4(hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3))
}
@inline(never) func tokens4Maddubs(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ aStride: Int, _ pairSums8: UnsafeRawPointer, _ pStride: Int, _ blocks: Int) -> SIMD4<Float> {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var x = w, y = a, ps = pairSums8
    let mask = SIMD16<UInt8>(repeating: opaqueMask), zero = SIMD16<UInt8>(repeating: opaqueMask &- 15)
    for _ in 0..<blocks {
        let q = x.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        let u = SIMD32<UInt8>(lowHalf: q & mask, highHalf: (q &>> 4) & mask | zero)
        let dw = half(x, 0)
        withUnsafeBytes(of: u) { ub in
            let up = ub.baseAddress!
            @inline(__always) func groups(_ y: UnsafeRawPointer, _ ps: UnsafeRawPointer) -> SIMD8<Float> {
                SIMD8<Float>(addPairsFittingInt16(madduBytes(up, y + 2) &- ps.load(as: SIMD16<Int16>.self)))
            }
            a0 = a0.addingProduct(groups(y, ps), SIMD8(repeating: dw * half(y, 0)))
            a1 = a1.addingProduct(groups(y + aStride, ps + pStride), SIMD8(repeating: dw * half(y + aStride, 0)))
            a2 = a2.addingProduct(groups(y + 2 * aStride, ps + 2 * pStride), SIMD8(repeating: dw * half(y + 2 * aStride, 0)))
            a3 = a3.addingProduct(groups(y + 3 * aStride, ps + 3 * pStride), SIMD8(repeating: dw * half(y + 3 * aStride, 0)))
        }
        x += 18; y += 34; ps += 32
    }
    return SIMD4(hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3))
}

// A random Q4_0 matrix and one Q8_0 activation row, with its split codes and pair sums.
let rows = 576, cols = 1536, blocks = cols / 32, rowBytes = blocks * 18
var rng = SystemRandomNumberGenerator()
let weights = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
for i in 0..<rows * rowBytes { weights.storeBytes(of: UInt8.random(in: 0...255, using: &rng), toByteOffset: i, as: UInt8.self) }
for b in 0..<rows * blocks { weights.storeBytes(of: Float16(Float.random(in: 0.001...0.01)).bitPattern, toByteOffset: b * 18, as: UInt16.self) }
let activation = UnsafeMutableRawPointer.allocate(byteCount: blocks * 34, alignment: 64)
let codes = UnsafeMutableRawPointer.allocate(byteCount: blocks * 64, alignment: 64)
let pairSums8 = UnsafeMutableRawPointer.allocate(byteCount: blocks * 32, alignment: 64)
for b in 0..<blocks {
    activation.storeBytes(of: Float16(0.02).bitPattern, toByteOffset: b * 34, as: UInt16.self)
    let q = (0..<32).map { _ in Int8.random(in: -127...127) }
    for j in 0..<32 { activation.storeBytes(of: q[j], toByteOffset: b * 34 + 2 + j, as: Int8.self) }
    for k in 0..<16 {
        codes.storeBytes(of: Int16(q[2 * k]), toByteOffset: b * 64 + 2 * k, as: Int16.self)
        codes.storeBytes(of: Int16(q[2 * k + 1]), toByteOffset: b * 64 + 32 + 2 * k, as: Int16.self)
        pairSums8.storeBytes(of: 8 * (Int16(q[2 * k]) + Int16(q[2 * k + 1])), toByteOffset: b * 32 + 2 * k, as: Int16.self)
    }
}

var reference = [Float](), four = [Float](), maddubs = [Float]()
for r in 0..<rows {
    reference.append(rowInt16(weights + r * rowBytes, activation, codes, blocks))
    maddubs.append(rowMaddubs(weights + r * rowBytes, activation, pairSums8, blocks))
}
for r in stride(from: 0, to: rows, by: 4) {
    let v = rows4Int16(weights + r * rowBytes, rowBytes, activation, codes, blocks)
    four += [v[0], v[1], v[2], v[3]]
}
print("same floats: four rows \(four == reference), vpmaddubsw \(maddubs == reference)")

let passes = 3000, totalBlocks = Double(passes * rows * blocks)
func time(_ name: String, _ body: () -> Float) {
    var best = Double.infinity, sink: Float = 0
    for _ in 0..<5 { let t = threadSeconds(); sink += body(); best = min(best, threadSeconds() - t) }
    print(name.padding(toLength: 44, withPad: " ", startingAt: 0), String(format: "%.2f ns a block", best / totalBlocks * 1e9), sink.isNaN ? "" : "")
}
time("1 one row, Int16 products (lmlab)") { var s: Float = 0; for _ in 0..<passes { for r in 0..<rows { s += rowInt16(weights + r * rowBytes, activation, codes, blocks) } }; return s }
time("2 four rows per pass, Int16 products") { var s: Float = 0; for _ in 0..<passes { for r in stride(from: 0, to: rows, by: 4) { s += rows4Int16(weights + r * rowBytes, rowBytes, activation, codes, blocks).sum() } }; return s }
time("3 one row, vpmaddubsw") { var s: Float = 0; for _ in 0..<passes { for r in 0..<rows { s += rowMaddubs(weights + r * rowBytes, activation, pairSums8, blocks) } }; return s }
time("4 one row, integer sums only (no fma chain)") { var s: Float = 0; for _ in 0..<passes { for r in 0..<rows { s += rowIntegerOnly(weights + r * rowBytes, codes, blocks) } }; return s }

// Four tokens: the same activation row four times at different addresses.
let acts4 = UnsafeMutableRawPointer.allocate(byteCount: 4 * blocks * 34, alignment: 64)
let codes4 = UnsafeMutableRawPointer.allocate(byteCount: 4 * blocks * 64, alignment: 64)
let pairs4 = UnsafeMutableRawPointer.allocate(byteCount: 4 * blocks * 32, alignment: 64)
for t in 0..<4 {
    acts4.advanced(by: t * blocks * 34).copyMemory(from: activation, byteCount: blocks * 34)
    codes4.advanced(by: t * blocks * 64).copyMemory(from: codes, byteCount: blocks * 64)
    pairs4.advanced(by: t * blocks * 32).copyMemory(from: pairSums8, byteCount: blocks * 32)
}
var t4a = [Float](), t4b = [Float]()
for r in 0..<rows {
    let v = tokens4Int16(weights + r * rowBytes, acts4, blocks * 34, codes4, blocks * 64, blocks)
    let m = tokens4Maddubs(weights + r * rowBytes, acts4, blocks * 34, pairs4, blocks * 32, blocks)
    t4a.append(v[0]); t4b.append(m[0])
    precondition(v[0] == v[3] && m[0] == m[3])
}
print("four tokens same floats: \(t4a == reference), vpmaddubsw \(t4b == reference)")
time("5 four tokens, Int16 products (lmlab)") { var s: Float = 0; for _ in 0..<passes / 4 { for r in 0..<rows { s += tokens4Int16(weights + r * rowBytes, acts4, blocks * 34, codes4, blocks * 64, blocks).sum() } }; return s }
time("6 four tokens, vpmaddubsw") { var s: Float = 0; for _ in 0..<passes / 4 { for r in 0..<rows { s += tokens4Maddubs(weights + r * rowBytes, acts4, blocks * 34, pairs4, blocks * 32, blocks).sum() } }; return s }
