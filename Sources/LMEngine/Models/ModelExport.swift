import Foundation

/// Writing the weights in use now (the file's, or a `quant` level's) back out as
/// a GGUF file: every metadata key of the original in its order (tokenizer
/// included), `general.file_type` updated, tensors in the original order with
/// their original shapes, each matrix in the type it has now.
extension DecoderModel {
    /// llama.cpp's `llama_ftype` number for a file whose matrices are mostly `type`
    /// (K-quants map to their "_S" variants: one type throughout).
    public static func fileTypeNumber(_ type: GGMLType) -> UInt32? {
        switch type {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .q5_0: return 8
        case .q5_1: return 9
        case .q2_K: return 10
        case .q3_K: return 11
        case .q4_K: return 14
        case .q5_K: return 16
        case .q6_K: return 18
        case .bf16: return 32
        default: return nil
        }
    }

    /// Builds the file. `mostly` names the type for `general.file_type`
    /// (nil keeps the original file's value).
    public func ggufWriter(mostly: GGMLType?) throws -> GGUFWriter {
        var writer = GGUFWriter()
        for key in gguf.metadataKeys {
            guard var value = gguf.metadata[key] else { continue }
            if key == "general.file_type", let type = mostly, let number = DecoderModel.fileTypeNumber(type) {
                value = .uint32(number)
            }
            writer.set(key, value)
        }
        if gguf.metadata["general.file_type"] == nil, let type = mostly, let number = DecoderModel.fileTypeNumber(type) {
            writer.set("general.file_type", .uint32(number))
        }
        let inUse = Dictionary(uniqueKeysWithValues: slots.map { ($0.name, $0.matrix) })
        for tensor in gguf.tensors {
            if let m = inUse[tensor.name] {
                let bytes = [UInt8](UnsafeRawBufferPointer(start: m.data, count: m.rows * m.rowBytes))
                try writer.addTensor(name: tensor.name, dims: tensor.dims, type: m.type, bytes: bytes)
            } else {
                let bytes = [UInt8](UnsafeRawBufferPointer(start: gguf.pointer(to: tensor), count: tensor.byteCount))
                try writer.addTensor(name: tensor.name, dims: tensor.dims, type: tensor.type, bytes: bytes)
            }
        }
        return writer
    }

    /// Writes the file atomically: to a temporary name beside it, renamed when complete.
    public func writeGGUF(to url: URL, mostly: GGMLType?) throws {
        try ggufWriter(mostly: mostly).writeAtomically(to: url)
    }
}

extension GGUFWriter {
    /// Writes the file whole under its final name or not at all (see `AtomicWrite`).
    public func writeAtomically(to url: URL) throws {
        try AtomicWrite.replace(url) { try write(to: $0) }
    }
}
