/// Q8_1: blocks of 32 values, 36 bytes each, used for activations only.
///
///     offset 0   d       fp16   scale
///     offset 2   s       fp16   d · Σ qs[j]  (the integer sum times d, rounded once to fp16)
///     offset 4   qs[32]  int8   value j = qs[j] · d
///
/// Q4_1/Q5_1 weights carry an offset m; Σ (q·d_w + m)·a = d_w·Σ q·a + m·Σ a, and `s`
/// supplies that Σ a for free.
public enum Q8_1Format: BlockFormat {
    public static var type: GGMLType { .q8_1 }
    public static var activationType: GGMLType { .q8_1 }
    // The layout above as constants (computed: a static let costs a lazy-init check per use).
    @inline(__always) static var blockBytes: Int { 36 }
    @inline(__always) static var scaleOffset: Int { 0 }
    @inline(__always) static var sumOffset: Int { 2 }
    @inline(__always) static var codesOffset: Int { 4 }

    public static func dequantizeRow(src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        for b in 0..<count / 32 {
            let block = src + b * blockBytes
            let d = block.loadHalf(scaleOffset)
            for j in 0..<32 {
                dst[b * 32 + j] = Float(block.load(fromByteOffset: codesOffset + j, as: Int8.self)) * d
            }
        }
    }

    /// ggml's `quantize_row_q8_1_ref`: as Q8_0, plus s = fp16(Float(Σ q) · d).
    public static func quantizeRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        quantize(src: src, dst: dst, count: count, rounding: .reference)
    }

    /// Activations as llama.cpp's x86 `quantize_row_q8_1`: multiplier 127/max, halves to
    /// even (see `Int8Rounding.activations`), s = fp16(d · Σ qs).
    public static func quantizeActivationRow(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<count / 32 {
            let block = dst + b * blockBytes
            let (d, sum) = quantizeInt8BlockActivations(src + b * 32, codes: block + codesOffset)
            block.storeHalf(d, scaleOffset)
            block.storeHalf(Float(sum) * d, sumOffset)
        }
    }

    /// The plain loop of `quantizeActivationRow`.
    public static func quantizeActivationRowReference(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int) {
        quantize(src: src, dst: dst, count: count, rounding: .activations)
    }

    private static func quantize(src: UnsafePointer<Float>, dst: UnsafeMutableRawPointer, count: Int, rounding: Int8Rounding) {
        for b in 0..<count / 32 {
            let block = dst + b * blockBytes
            let (d, sum) = quantizeInt8Block(src + b * 32, codes: block + codesOffset, rounding: rounding)
            block.storeHalf(d, scaleOffset)
            block.storeHalf(Float(sum) * d, sumOffset)
        }
    }

    /// Q8_1 · Q8_1 (ggml has no such pairing on CPU; provided for completeness).
    public static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 32 {
            let x = w + b * blockBytes, y = a + b * blockBytes
            var sumi: Int32 = 0
            for j in 0..<32 {
                sumi += Int32(x.load(fromByteOffset: codesOffset + j, as: Int8.self)) * Int32(y.load(fromByteOffset: codesOffset + j, as: Int8.self))
            }
            sumf += Float(sumi) * (x.loadHalf(scaleOffset) * y.loadHalf(scaleOffset))
        }
        return sumf
    }

    public static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int) -> Float {
        var sumf: Float = 0
        for b in 0..<count / 32 {
            let x = w + b * blockBytes, y = a + b * blockBytes
            var acc = SIMD8<Int32>()
            for k in 0..<4 { acc &+= loadInt8x8(x, codesOffset + 8 * k) &* loadInt8x8(y, codesOffset + 8 * k) }
            sumf += Float(acc.wrappedSum()) * (x.loadHalf(scaleOffset) * y.loadHalf(scaleOffset))
        }
        return sumf
    }
}
