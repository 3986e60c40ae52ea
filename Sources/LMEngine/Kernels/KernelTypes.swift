/// A row-major weight matrix read in place (usually from the mmapped file): `rows` rows
/// of `cols` elements, each row `type.rowBytes(cols)!` bytes, rows contiguous.
/// The matrix does not own `data`; whoever mapped the file keeps it alive.
public struct WeightMatrix {
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer

    public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) {
        precondition(type.rowBytes(cols) != nil, "\(cols) columns is not a whole number of \(type.name) blocks")
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    /// Bytes of one row.
    public var rowBytes: Int { type.rowBytes(cols)! }

    /// Start of row `r`.
    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

    /// Rows `range` as a matrix of their own, in place: a fused projection's parts
    /// (phi3's [q | k | v] and [gate | up]). Each output row is the same dot product
    /// either way, so matmul on the parts gives the fused matmul's numbers.
    public func rows(_ range: Range<Int>) -> WeightMatrix {
        WeightMatrix(type: type, rows: range.count, cols: cols, data: data + range.lowerBound * rowBytes)
    }
}

/// Which implementation the kernels run: the plain loops (single-threaded, the
/// readable definition) or the SIMD + thread-pool versions.
public enum KernelMode: String, Sendable {
    case reference, fast
}

/// The arithmetic the model runs in.
/// - f32: dequantize each weight row to floats and dot with the f32 activations, and
///   keep keys, values and attention in f32 (the "F32 expansion" reference).
/// - q8: llama.cpp's CPU arithmetic, reproduced to the bit on its x86 build: quantize
///   the activations per block to the weight type's partner (Q8_0, Q8_1, Q8_K, f16 or
///   bf16) and use integer dots per block summed in ggml's float order; keys and values
///   rounded to f16 as its default KV cache stores them, and its flash attention (f16
///   query, f16 running output). SiLU, GELU, RoPE and RMSNorm follow ggml in both modes.
public enum ActivationPrecision: String, Sendable {
    case f32, q8
}
