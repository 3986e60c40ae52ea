/// The tensor element types a GGUF file may name, with ggml's numbering.
///
/// A quantized type stores a row as blocks: `blockSize` elements packed into
/// `blockBytes` bytes. A row of `n` elements therefore takes
/// `n / blockSize * blockBytes` bytes, and `n` must be a multiple of `blockSize`.
public enum GGMLType: UInt32, CaseIterable, Sendable {
    case f32 = 0, f16 = 1
    case q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28
    case bf16 = 30

    /// Elements per block (1 for plain scalar types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: return 256
        }
    }

    /// Bytes per block, as ggml-common.h lays the blocks out.
    public var blockBytes: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8: return 1
        case .i64, .f64: return 8
        case .q4_0: return 2 + 16
        case .q4_1: return 2 + 2 + 16
        case .q5_0: return 2 + 4 + 16
        case .q5_1: return 2 + 2 + 4 + 16
        case .q8_0: return 2 + 32
        case .q8_1: return 2 + 2 + 32
        case .q2_K: return 256 / 16 + 256 / 4 + 2 + 2
        case .q3_K: return 256 / 8 + 256 / 4 + 12 + 2
        case .q4_K: return 2 + 2 + 12 + 256 / 2
        case .q5_K: return 2 + 2 + 12 + 256 / 8 + 256 / 2
        case .q6_K: return 256 / 2 + 256 / 4 + 256 / 16 + 2
        case .q8_K: return 4 + 256 + 256 / 16 * 2
        }
    }

    /// Storage cost in bits per weight, e.g. 4.5 for Q4_0.
    public var bitsPerWeight: Double { Double(blockBytes * 8) / Double(blockSize) }

    /// The name ggml and llama.cpp print, e.g. "Q4_0", "Q6_K", "F32".
    public var name: String {
        String(describing: self).uppercased()
    }

    /// Bytes for one row of `count` elements, or nil when `count` is not a
    /// whole number of blocks or the size doesn't fit in Int (a corrupt file).
    public func rowBytes(_ count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}
