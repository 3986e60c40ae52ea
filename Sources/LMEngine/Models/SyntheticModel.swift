import Foundation

/// A llama-architecture model of any size with random weights, written as GGUF:
/// for measuring how decode speed and memory grow with the parameter count, up
/// to what the machine holds. Its text is noise — it is good for speed and
/// memory only, and says so in its name and metadata.
public enum SyntheticModel {
    public struct Shape: Equatable, Sendable {
        public var layers: Int
        public var embedding: Int
        public var heads: Int
        public var kvHeads: Int
        public var feedForward: Int
        public var vocabulary: Int

        /// Elements of every tensor: the embedding (tied with the output head),
        /// per layer q, k, v, o, gate, up, down and two norms, and the final norm.
        public var parameters: Int {
            let kvWidth = kvHeads * (embedding / heads)
            let perLayer = 2 * embedding * embedding + 2 * embedding * kvWidth + 3 * embedding * feedForward + 2 * embedding
            return vocabulary * embedding + layers * perLayer + embedding
        }
    }

    /// Widths tried, smallest first; heads of 64, a quarter as many key/value heads.
    static let widths = [256, 384, 512, 576, 768, 1024, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 8192]

    /// A plausible shape near `parameters`: the narrowest width whose layer count
    /// stays at most 32, an MLP 4× as wide (rounded to 256), a 32,000-token vocabulary.
    public static func shape(forParameters target: Int, vocabulary: Int = 32_000) -> Shape {
        var shape = Shape(layers: 1, embedding: widths[0], heads: 4, kvHeads: 1, feedForward: 1024, vocabulary: vocabulary)
        for d in widths {
            shape = Shape(layers: 0, embedding: d, heads: d / 64, kvHeads: max(1, d / 256),
                          feedForward: (4 * d + 255) / 256 * 256, vocabulary: vocabulary)
            while shape.heads % shape.kvHeads != 0 { shape.kvHeads -= 1 }
            let outside = shape.parameters                       // embedding + final norm, no layers
            shape.layers = 1
            let perLayer = shape.parameters - outside
            shape.layers = max(1, Int((Double(target - outside) / Double(perLayer)).rounded()))
            if shape.layers <= 32 { break }
        }
        return shape
    }

    /// The size a file of `shape` in `type` would have (tensor bytes; the header is small).
    public static func tensorBytes(_ shape: Shape, type: GGMLType) -> Int? {
        guard let row = type.rowBytes(shape.embedding), let ffRow = type.rowBytes(shape.feedForward) else { return nil }
        let kvWidth = shape.kvHeads * (shape.embedding / shape.heads)
        let perLayer = (2 * shape.embedding + 2 * kvWidth + 2 * shape.feedForward) * row + shape.embedding * ffRow
            + 2 * shape.embedding * 4
        return shape.vocabulary * row + shape.layers * perLayer + shape.embedding * 4
    }

    /// Writes the model: random weights (uniform, scaled like a trained model's),
    /// norms of ones, a byte-level vocabulary padded to the shape's size.
    public static func write(_ shape: Shape, type: GGMLType, to url: URL, seed: UInt64 = 1, contextLength: Int = 4096,
                             threads: Int = 2, shouldStop: () -> Bool = { false }) throws {
        var w = GGUFWriter()
        let label = "synthetic llama \(shape.parameters / 1_000_000)M (random weights: speed and memory only)"
        w.set("general.architecture", .string("llama"))
        w.set("general.name", .string(label))
        w.set("general.description", .string("random weights written by lmlab synth; its text is noise"))
        if let number = DecoderModel.fileTypeNumber(type) { w.set("general.file_type", .uint32(number)) }
        w.set("llama.block_count", .uint32(UInt32(shape.layers)))
        w.set("llama.embedding_length", .uint32(UInt32(shape.embedding)))
        w.set("llama.feed_forward_length", .uint32(UInt32(shape.feedForward)))
        w.set("llama.attention.head_count", .uint32(UInt32(shape.heads)))
        w.set("llama.attention.head_count_kv", .uint32(UInt32(shape.kvHeads)))
        w.set("llama.context_length", .uint32(UInt32(contextLength)))
        w.set("llama.rope.freq_base", .float32(10_000))
        w.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        // Byte-level BPE without merges: every byte is a token; the rest pad the table.
        let tokens = (0..<shape.vocabulary).map { $0 < 256 ? ByteLevel.encode([UInt8($0)]) : "<synth-\($0)>" }
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
        w.set("tokenizer.ggml.merges", .array(GGUFArray(strings: [])))

        let context = ComputeContext(threads: threads)
        func matrix(_ name: String, rows: Int, cols: Int, salt: UInt64) throws {
            if shouldStop() { throw CancellationError() }
            let rowBytes = type.rowBytes(cols)!
            var out = [UInt8](repeating: 0, count: rows * rowBytes)
            let scale = Float(1 / Double(cols).squareRoot())
            out.withUnsafeMutableBytes { dst in
                let base = dst.baseAddress!
                context.parallelFor(rows) { r in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: cols) { row in
                        // SplitMix64 per row: reproducible whatever the thread split.
                        var state = seed &+ salt &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(r) &* 0xBF58_476D_1CE4_E5B9
                        for i in 0..<cols {
                            state &+= 0x9E37_79B9_7F4A_7C15
                            var z = state
                            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                            z ^= z >> 31
                            row[i] = (Float(z >> 40) / Float(1 << 24) * 2 - 1) * scale
                        }
                        BlockFormats.quantizeRow(type, src: row.baseAddress!, dst: base + r * rowBytes, count: cols)
                    }
                }
            }
            try w.addTensor(name: name, dims: [cols, rows], type: type, bytes: out)
        }
        func ones(_ name: String, _ n: Int) throws {
            let v = [Float](repeating: 1, count: n)
            try w.addTensor(name: name, dims: [n], type: .f32, bytes: v.withUnsafeBytes { Array($0) })
        }
        let d = shape.embedding, kvWidth = shape.kvHeads * (d / shape.heads), ff = shape.feedForward
        try matrix("token_embd.weight", rows: shape.vocabulary, cols: d, salt: 1)
        for l in 0..<shape.layers {
            let p = "blk.\(l).", s = UInt64(100 + 10 * l)
            try ones(p + "attn_norm.weight", d)
            try matrix(p + "attn_q.weight", rows: d, cols: d, salt: s)
            try matrix(p + "attn_k.weight", rows: kvWidth, cols: d, salt: s + 1)
            try matrix(p + "attn_v.weight", rows: kvWidth, cols: d, salt: s + 2)
            try matrix(p + "attn_output.weight", rows: d, cols: d, salt: s + 3)
            try ones(p + "ffn_norm.weight", d)
            try matrix(p + "ffn_gate.weight", rows: ff, cols: d, salt: s + 4)
            try matrix(p + "ffn_up.weight", rows: ff, cols: d, salt: s + 5)
            try matrix(p + "ffn_down.weight", rows: d, cols: ff, salt: s + 6)
        }
        try ones("output_norm.weight", d)
        try w.writeAtomically(to: url)
    }
}
