import Foundation

/// A model of any registered architecture and any size with random weights, written as
/// GGUF: for measuring how decode speed and memory grow with the parameter count, up to
/// what the machine holds, and for holding each architecture to llama.cpp on the same
/// file (the differential harness in scripts/). Its text is noise — it is good for speed,
/// memory and agreement only, and says so in its name and metadata. Which tensors a file
/// holds is the architecture's own `syntheticLayout` (one list per architecture file).
public enum SyntheticModel {
    public struct Shape: Equatable, Sendable {
        public var layers: Int
        public var embedding: Int
        public var heads: Int
        public var kvHeads: Int
        public var feedForward: Int
        public var vocabulary: Int
        /// Width of one attention head; nil: embedding / heads (qwen3 and gemma set their own).
        public var headSize: Int? = nil

        public init(layers: Int, embedding: Int, heads: Int, kvHeads: Int, feedForward: Int, vocabulary: Int, headSize: Int? = nil) {
            self.layers = layers; self.embedding = embedding; self.heads = heads; self.kvHeads = kvHeads
            self.feedForward = feedForward; self.vocabulary = vocabulary; self.headSize = headSize
        }

        public var headDim: Int { headSize ?? embedding / heads }
        public var queryWidth: Int { heads * headDim }
        public var kvWidth: Int { kvHeads * headDim }

        /// Elements of every tensor of a llama of this shape: the embedding (tied with the
        /// output head), per layer q, k, v, o, gate, up, down and two norms, and the final norm.
        public var parameters: Int { SyntheticModel.parameters(self, layout: LlamaModel.syntheticLayout(self)!) }
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

    /// Elements of every tensor a file of this layout holds.
    public static func parameters(_ shape: Shape, layout: SyntheticLayout) -> Int {
        let common = shape.vocabulary * shape.embedding + shape.embedding
        return common + layout.global.reduce(0) { $0 + $1.count } + shape.layers * layout.layer.reduce(0) { $0 + $1.count }
    }

    /// The type each tensor is written in: `type` for matrices whose rows it divides into
    /// blocks, except in a mixture (`q4_k_m`-like: attn_v and ffn_down in Q6_K), f32 for vectors.
    static func tensorType(_ t: SyntheticLayout.Tensor, type: GGMLType, mixture: Bool) -> GGMLType {
        guard t.fill == .weight else { return .f32 }
        let wanted = mixture && (t.name.hasPrefix("attn_v") || t.name.hasPrefix("ffn_down")) ? GGMLType.q6_K : type
        return wanted.rowBytes(t.cols) != nil ? wanted : (GGMLType.q8_0.rowBytes(t.cols) != nil ? .q8_0 : .f32)
    }

    /// The size a file of `shape` in `type` would have (tensor bytes; the header is small);
    /// nil when the architecture can't be synthesized.
    public static func tensorBytes(_ shape: Shape, type: GGMLType, architecture: String = "llama", mixture: Bool = false) -> Int? {
        guard let layout = ArchitectureRegistry.type(named: architecture)?.syntheticLayout(shape) else { return nil }
        func bytes(_ t: SyntheticLayout.Tensor) -> Int {
            let ty = tensorType(t, type: type, mixture: mixture)
            return t.rows * (ty.rowBytes(t.cols) ?? t.cols * 4)
        }
        let embedding = SyntheticLayout.Tensor("token_embd.weight", rows: shape.vocabulary, cols: shape.embedding, .weight)
        return bytes(embedding) + shape.embedding * 4 + layout.global.reduce(0) { $0 + bytes($1) }
            + shape.layers * layout.layer.reduce(0) { $0 + bytes($1) }
    }

    /// Writes the model: random weights (uniform, scaled like a trained model's), norms
    /// near one, small biases, a byte-level vocabulary padded to the shape's size.
    /// `mixture`: Q6_K for attn_v and ffn_down, as llama.cpp's Q4_K_M keeps them.
    public static func write(_ shape: Shape, architecture: String = "llama", type: GGMLType, mixture: Bool = false,
                             to url: URL, seed: UInt64 = 1, contextLength: Int = 4096,
                             threads: Int = 2, plan: String? = nil, shouldStop: () -> Bool = { false }) throws {
        guard let architectureType = ArchitectureRegistry.type(named: architecture),
              let layout = architectureType.syntheticLayout(shape) else {
            throw ModelError.unsupportedArchitecture(architecture)
        }
        let a = architecture
        var w = GGUFWriter()
        // llama.cpp gives Phi-3's SentencePiece tokens (</s>, <unk>, …) attributes when the
        // model's *name* says phi-3/phi3, and fails to load when they are missing, as they
        // are from this byte-level vocabulary; so the name spells it "Phi 3".
        let named = a == "phi3" ? "Phi 3" : a
        let label = "synthetic \(named) \(parameters(shape, layout: layout) / 1_000_000)M (random weights: speed, memory and agreement only)"
        w.set("general.architecture", .string(a))
        w.set("general.name", .string(label))
        w.set("general.description", .string("random weights written by lmlab synth; its text is noise"))
        // What `synth` was asked for, so `synth --keep` can tell a file it would write again.
        if let plan { w.set("lmlab.synth.plan", .string(plan)) }
        // 15: llama.cpp's Q4_K_M, the mixture's label.
        if let number = mixture && type == .q4_K ? 15 : DecoderModel.fileTypeNumber(type) {
            w.set("general.file_type", .uint32(number))
        }
        w.set("\(a).block_count", .uint32(UInt32(shape.layers)))
        w.set("\(a).embedding_length", .uint32(UInt32(shape.embedding)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(shape.feedForward)))
        w.set("\(a).attention.head_count", .uint32(UInt32(shape.heads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(shape.kvHeads)))
        if shape.headSize != nil {
            w.set("\(a).attention.key_length", .uint32(UInt32(shape.headDim)))
            w.set("\(a).attention.value_length", .uint32(UInt32(shape.headDim)))
        }
        w.set("\(a).context_length", .uint32(UInt32(contextLength)))
        w.set("\(a).rope.freq_base", .float32(10_000))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        for (key, value) in layout.metadata.sorted(by: { $0.key < $1.key }) { w.set("\(a).\(key)", value) }
        // Byte-level BPE without merges: every byte is a token; the rest pad the table.
        let tokens = (0..<shape.vocabulary).map { $0 < 256 ? ByteLevel.encode([UInt8($0)]) : "<synth-\($0)>" }
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
        w.set("tokenizer.ggml.merges", .array(GGUFArray(strings: [])))

        let context = ComputeContext(threads: threads)
        var salt: UInt64 = 0
        func tensor(_ name: String, _ t: SyntheticLayout.Tensor) throws {
            if shouldStop() { throw CancellationError() }
            salt += 1
            let type = tensorType(t, type: type, mixture: mixture)
            let rows = t.rows, cols = t.cols
            let rowBytes = type.rowBytes(cols)!
            var out = [UInt8](repeating: 0, count: rows * rowBytes)
            // Weights uniform in ±1/√cols; norms 1 ± 0.1; biases ± 0.1; rope factors 1…4.
            let (scale, offset): (Float, Float) = switch t.fill {
            case .weight: (Float(1 / Double(cols).squareRoot()), 0)
            case .norm: (0.1, 1)
            case .bias: (0.1, 0)
            case .ropeFactors: (1.5, 2.5)
            }
            let s = seed, tensorSalt = salt
            out.withUnsafeMutableBytes { dst in
                let base = dst.baseAddress!
                context.parallelFor(rows) { r in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: cols) { row in
                        // SplitMix64 per row: reproducible whatever the thread split.
                        var state = s &+ tensorSalt &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(r) &* 0xBF58_476D_1CE4_E5B9
                        for i in 0..<cols {
                            state &+= 0x9E37_79B9_7F4A_7C15
                            var z = state
                            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                            z ^= z >> 31
                            row[i] = offset + (Float(z >> 40) / Float(1 << 24) * 2 - 1) * scale
                        }
                        BlockFormats.quantizeRow(type, src: row.baseAddress!, dst: base + r * rowBytes, count: cols)
                    }
                }
            }
            try w.addTensor(name: name, dims: t.rows == 1 ? [cols] : [cols, rows], type: type, bytes: out)
        }
        try tensor("token_embd.weight", .init("token_embd.weight", rows: shape.vocabulary, cols: shape.embedding, .weight))
        for t in layout.global { try tensor(t.name, t) }
        for l in 0..<shape.layers {
            for t in layout.layer { try tensor("blk.\(l).\(t.name)", t) }
        }
        try tensor("output_norm.weight", .init("output_norm.weight", rows: 1, cols: shape.embedding, .norm))
        try w.writeAtomically(to: url)
    }
}

/// The tensors of a random-weight file of one architecture (see SyntheticModel): each
/// architecture file declares its own list beside the tensors it reads.
public struct SyntheticLayout: Sendable {
    public enum Fill: Sendable { case weight, norm, bias, ropeFactors }
    public struct Tensor: Sendable {
        public let name: String
        /// rows 1: a vector of `cols` elements.
        public let rows, cols: Int
        public let fill: Fill
        public init(_ name: String, rows: Int, cols: Int, _ fill: Fill) {
            self.name = name; self.rows = rows; self.cols = cols; self.fill = fill
        }
        public static func matrix(_ name: String, _ rows: Int, _ cols: Int) -> Tensor { Tensor(name + ".weight", rows: rows, cols: cols, .weight) }
        public static func norm(_ name: String, _ count: Int) -> Tensor { Tensor(name + ".weight", rows: 1, cols: count, .norm) }
        public static func bias(_ name: String, _ count: Int) -> Tensor { Tensor(name + ".bias", rows: 1, cols: count, .bias) }
        var count: Int { rows * cols }
    }
    /// Each layer's tensors, named without the "blk.N." prefix.
    public var layer: [Tensor]
    /// Tensors outside the layers besides token_embd and output_norm (rope factors, an untied head).
    public var global: [Tensor] = []
    /// Metadata under the architecture's prefix (key without it).
    public var metadata: [String: GGUFValue] = [:]

    public init(layer: [Tensor], global: [Tensor] = [], metadata: [String: GGUFValue] = [:]) {
        self.layer = layer; self.global = global; self.metadata = metadata
    }

    /// Llama's layer: two norms, q, k, v, o, gate, up, down (LlamaLayerWeights).
    public static func llama(_ s: SyntheticModel.Shape) -> SyntheticLayout {
        SyntheticLayout(layer: LlamaLayerWeights.syntheticTensors(s))
    }
}
