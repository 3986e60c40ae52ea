import Foundation

/// A model's weights re-quantized to one type, in memory: the heart of the
/// quantization lab. Built from the file's weights expanded to f32 (so every
/// type is measured against the same reference), row by row with the
/// reference quantizers. Owns its memory; `DecoderModel.use(_:)` points the
/// model's slots at it, and `use(nil)` returns to the file's tensors.
public final class WeightSet {
    public struct Change: Sendable {
        public let name: String
        public let from: GGMLType
        public let to: GGMLType
        /// Set when the row width doesn't fit the requested type's blocks.
        public let fellBack: Bool
    }
    public let requested: GGMLType
    public private(set) var changes: [Change] = []
    /// slot name → matrix in this set (slots not listed keep the file's tensor).
    private(set) var matrices: [String: WeightMatrix] = [:]
    private var storage: [UnsafeMutableRawPointer] = []
    public private(set) var seconds = 0.0

    deinit { for p in storage { p.deallocate() } }

    /// The type a row of `cols` elements gets when `type` is asked for. K-quants
    /// need rows that are whole 256-blocks; otherwise fall back as llama.cpp does
    /// (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0). For Q2_K/Q3_K llama.cpp falls back to
    /// IQ4_NL, which lmlab doesn't have: Q4_0 is the nearest 4-bit type here.
    public static func fallback(for type: GGMLType, cols: Int) -> GGMLType {
        if cols % type.blockSize == 0 { return type }
        switch type {
        case .q4_K: return .q5_0
        case .q5_K: return .q5_1
        case .q6_K: return .q8_0
        case .q2_K, .q3_K: return .q4_0
        default: return .f16
        }
    }

    /// The types `quant` offers (activation-only types excluded).
    public static let offered: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q6_K, .q5_K, .q5_1, .q5_0, .q4_K, .q4_1, .q4_0, .q3_K, .q2_K]

    /// Re-quantizes the slots `include` picks from `model`'s file weights.
    /// With `outputRule`, the output head (token_embd when tied) gets Q6_K (→ Q8_0
    /// when its rows don't fit) whenever a lower-bit type is asked for, as
    /// llama-quantize does, so the figures compare with llama.cpp's files.
    public init(model: DecoderModel, type: GGMLType, include: (WeightSlot) -> Bool = { _ in true },
                outputRule: Bool = false, shouldStop: () -> Bool = { false }) throws {
        requested = type
        let start = Date()
        for slot in model.slots where include(slot) {
            if shouldStop() { throw CancellationError() }
            let source = slot.original
            var wanted = type
            if outputRule, slot === model.outputSlot, type.bitsPerWeight < 8 { wanted = .q6_K }
            let target = WeightSet.fallback(for: wanted, cols: source.cols)
            let rowBytes = target.rowBytes(source.cols)!
            let dst = UnsafeMutableRawPointer.allocate(byteCount: max(1, source.rows * rowBytes), alignment: 64)
            storage.append(dst)
            let cols = source.cols
            model.compute.parallelFor(source.rows) { r in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: cols) { row in
                    // The row as stored, from the kernels' copy when there is one: reading the
                    // file's rows would map its released pages back in (`storedRow`).
                    withUnsafeTemporaryAllocation(byteCount: source.rowBytes, alignment: 16) { stored in
                        source.storedRow(r, into: stored.baseAddress!)
                        BlockFormats.dequantizeRow(source.type, src: UnsafeRawPointer(stored.baseAddress!), dst: row.baseAddress!, count: cols)
                    }
                    BlockFormats.quantizeRow(target, src: row.baseAddress!, dst: dst + r * rowBytes, count: cols)
                }
            }
            let matrix = WeightMatrix(type: target, rows: source.rows, cols: cols, data: UnsafeRawPointer(dst))
            // An untied embedding is only looked up a row at a time: no copy for the kernels.
            let lookupOnly = slot === model.tokenEmbeddingSlot && !model.outputIsTied
            matrices[slot.name] = lookupOnly ? matrix : matrix.interleavedForKernels()
            changes.append(Change(name: slot.name, from: source.type, to: target, fellBack: target != wanted))
        }
        seconds = Date().timeIntervalSince(start)
    }
}

extension DecoderModel {
    /// Points every slot at `set`'s matrix (or back at the file's when nil or
    /// when the set leaves a slot alone). The set must outlive its use.
    public func use(_ set: WeightSet?) {
        for slot in slots { slot.matrix = set?.matrices[slot.name] ?? slot.original }
    }

    /// Bytes of all weight matrices in use now.
    public var weightBytes: Int { slots.reduce(0) { $0 + $1.bytes } }
    /// Elements of all weight matrices.
    public var weightCount: Int { slots.reduce(0) { $0 + $1.matrix.rows * $1.matrix.cols } }
}
