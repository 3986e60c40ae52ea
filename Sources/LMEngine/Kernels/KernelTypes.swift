/// A row-major weight matrix read in place (usually from the mmapped file): `rows` rows
/// of `cols` elements, each row `type.rowBytes(cols)!` bytes, rows contiguous.
/// The matrix does not own `data`; whoever mapped the file keeps it alive.
public struct WeightMatrix {
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer
    /// The same rows interleaved for the kernels (`Q4_0x8`, `Q4_Kx16`, `Q5_Kx16`, `Q6_Kx16`, `Q8_0x16`), when made
    /// (`interleavedForKernels`); `data` stays the rows as the file has them.
    public let interleaved: InterleavedRows?

    public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer, interleaved: InterleavedRows? = nil) {
        precondition(type.rowBytes(cols) != nil, "\(cols) columns is not a whole number of \(type.name) blocks")
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
        self.interleaved = interleaved
    }

    /// The interleaved layout `interleavedForKernels` copies this matrix into: Q4_0 with a
    /// multiple of 8 rows (`Q4_0x8`, as llama.cpp repacks it), and on CPUs with the VNNI
    /// kernels Q4_K, Q5_K, Q6_K and Q8_0 with a multiple of 16 (`Q4_Kx16`, `Q5_Kx16`,
    /// `Q6_Kx16`, `Q8_0x16`); nil for the others.
    var interleaving: (any RowInterleaving.Type)? {
        let layout: (any RowInterleaving.Type)?
        switch type {
        case .q4_0: layout = Q4_0x8.self
        case .q4_K: layout = CPUFeatures.vnni ? Q4_Kx16.self : nil
        case .q8_0: layout = CPUFeatures.vnni ? Q8_0x16.self : nil
        case .q5_K: layout = CPUFeatures.vnni ? Q5_Kx16.self : nil
        case .q6_K: layout = CPUFeatures.vnni ? Q6_Kx16.self : nil
        default: layout = nil
        }
        guard let layout, rows > 0, rows % layout.rowsPerGroup == 0 else { return nil }
        return layout
    }

    /// Whether `interleavedForKernels` makes a copy of this matrix.
    public var interleavable: Bool { interleaving != nil }

    /// This matrix with an interleaved copy of its rows for the kernels when it is
    /// `interleavable` (costing about its own size again in memory), else itself.
    /// `copied(bytes)`: as `RowInterleaving.copy` goes, the first `bytes` of `data` are done with.
    public func interleavedForKernels(copied: ((Int) -> Void)? = nil) -> WeightMatrix {
        guard let layout = interleaving, interleaved == nil else { return self }
        return WeightMatrix(type: type, rows: rows, cols: cols, data: data, interleaved: layout.copy(of: self, copied: copied))
    }

    /// Row r as the file has it, into `out` (`rowBytes`): from the interleaved copy when
    /// there is one (the file's pages of such a matrix were given back at load).
    public func storedRow(_ r: Int, into out: UnsafeMutableRawPointer) {
        if let interleaved {
            let blocks = cols / type.blockSize
            interleaved.storedRow(r, blocks: blocks, blockBytes: rowBytes / blocks, into: out)
        } else {
            out.copyMemory(from: row(r), byteCount: rowBytes)
        }
    }

    /// Bytes of one row.
    public var rowBytes: Int { type.rowBytes(cols)! }

    /// Start of row `r`.
    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

    /// Rows `range` as a matrix of their own, in place: a fused projection's parts
    /// (phi3's [q | k | v] and [gate | up]). Each output row is the same dot product
    /// either way, so matmul on the parts gives the fused matmul's numbers.
    public func rows(_ range: Range<Int>) -> WeightMatrix {
        var part: InterleavedRows?
        if let interleaved, range.lowerBound % interleaved.rowsPerGroup == 0, range.count % interleaved.rowsPerGroup == 0 {
            part = InterleavedRows(storage: interleaved.storage,
                                   base: interleaved.base + range.lowerBound / interleaved.rowsPerGroup * interleaved.groupBytes,
                                   layout: interleaved.layout, rowsPerGroup: interleaved.rowsPerGroup, groupBytes: interleaved.groupBytes)
        }
        return WeightMatrix(type: type, rows: range.count, cols: cols, data: data + range.lowerBound * rowBytes, interleaved: part)
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
