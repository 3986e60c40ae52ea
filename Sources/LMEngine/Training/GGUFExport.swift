import Foundation

/// Writes a trained model as a llama-architecture GGUF that the engine's
/// ModelLoader runs like any downloaded model: the `llama.*` shape keys, the
/// tokenizer in the metadata, and every tensor under its GGUF name.
/// Norm weights stay F32; matrices are F32 or F16 (half the bytes).
public enum GGUFExport {
    public static func write(parameters: [Float], shape: ModelShape, vocabulary: TrainingVocabulary, name: String,
                             matrixType: GGMLType = .f32, extraMetadata: [(String, GGUFValue)] = [], to url: URL) throws {
        guard matrixType == .f32 || matrixType == .f16 else {
            throw TrainingError.badRecipe("export type must be f32 or f16, not \(matrixType.name)")
        }
        guard vocabulary.count == shape.vocabulary else {
            throw TrainingError.badRecipe("the vocabulary has \(vocabulary.count) tokens but the model \(shape.vocabulary)")
        }
        let layout = ParameterLayout(shape)
        var w = GGUFWriter()
        let a = "llama"
        w.set("general.architecture", .string(a))
        w.set("general.name", .string(name))
        w.set("general.file_type", .uint32(matrixType == .f16 ? 1 : 0))
        w.set("\(a).block_count", .uint32(UInt32(shape.layers)))
        w.set("\(a).context_length", .uint32(UInt32(shape.context)))
        w.set("\(a).embedding_length", .uint32(UInt32(shape.embedding)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(shape.feedForward)))
        w.set("\(a).attention.head_count", .uint32(UInt32(shape.heads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(shape.heads)))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(shape.rmsEpsilon))
        w.set("\(a).rope.freq_base", .float32(shape.ropeBase))
        w.set("\(a).rope.dimension_count", .uint32(UInt32(shape.headDim)))
        w.set("\(a).vocab_size", .uint32(UInt32(shape.vocabulary)))
        for (key, value) in vocabulary.metadata() + extraMetadata { w.set(key, value) }
        for t in layout.tensors {
            let values = parameters[t.offset..<(t.offset + t.count)]
            let dims = t.isNorm ? [t.cols] : [t.cols, t.rows]   // GGUF: ne0 is the row length
            if t.isNorm || matrixType == .f32 {
                var bytes = [UInt8](); bytes.reserveCapacity(4 * t.count)
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                try w.addTensor(name: t.name, dims: dims, type: .f32, bytes: bytes)
            } else {
                var bytes = [UInt8](); bytes.reserveCapacity(2 * t.count)
                for v in values { withUnsafeBytes(of: floatToHalf(v).littleEndian) { bytes.append(contentsOf: $0) } }
                try w.addTensor(name: t.name, dims: dims, type: .f16, bytes: bytes)
            }
        }
        // Beside the target, then renamed: a failed export (a full disk) leaves
        // neither half a model under the final name nor the temporary file.
        try w.writeAtomically(to: url)
    }
}
