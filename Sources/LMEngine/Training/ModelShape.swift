/// The dimensions of a trainable llama-architecture model (no grouped-query
/// attention: every head has its own keys and values).
public struct ModelShape: Codable, Equatable, Sendable {
    public var vocabulary: Int
    /// d_model, the width of the residual stream.
    public var embedding: Int
    public var layers: Int
    public var heads: Int
    public var feedForward: Int
    /// The longest sequence trained on (and the exported context length).
    public var context: Int
    public var ropeBase: Float = 10_000
    public var rmsEpsilon: Float = 1e-5

    public init(vocabulary: Int, embedding: Int, layers: Int, heads: Int, feedForward: Int, context: Int,
                ropeBase: Float = 10_000, rmsEpsilon: Float = 1e-5) {
        self.vocabulary = vocabulary; self.embedding = embedding; self.layers = layers; self.heads = heads
        self.feedForward = feedForward; self.context = context; self.ropeBase = ropeBase; self.rmsEpsilon = rmsEpsilon
    }

    public var headDim: Int { embedding / heads }

    /// One line naming what is wrong, or nil when the shape can be built.
    public var problem: String? {
        if vocabulary < 2 { return "vocabulary must have at least 2 tokens" }
        if embedding < 2 || layers < 1 || heads < 1 || feedForward < 1 || context < 2 {
            return "embedding, layers, heads, feedForward and context must be positive"
        }
        if embedding % heads != 0 { return "embedding \(embedding) is not a multiple of heads \(heads)" }
        if headDim % 2 != 0 { return "head size \(headDim) must be even for RoPE" }
        return nil
    }
}

/// Where each tensor lives in the one flat parameter array (and, in the same
/// layout, in the gradient and optimizer-moment arrays). Names and shapes are
/// the GGUF ones, so export is a copy per tensor.
public struct ParameterLayout: Sendable {
    public struct Tensor: Sendable {
        public let name: String
        /// Rows × cols of the row-major matrix (a norm vector: 1 × count).
        public let rows: Int
        public let cols: Int
        public let offset: Int
        public var count: Int { rows * cols }
        /// Norm weights start at 1 and are not decayed.
        public var isNorm: Bool { rows == 1 }
    }

    public struct Layer: Sendable {
        public let attnNorm, wq, wk, wv, wo, ffnNorm, gate, up, down: Int
    }

    public let tensors: [Tensor]
    public let total: Int
    /// Offsets into the flat array.
    public let tokenEmbedding: Int
    public let layers: [Layer]
    public let outputNorm: Int

    public init(_ s: ModelShape) {
        var tensors: [Tensor] = []
        var offset = 0
        func add(_ name: String, _ rows: Int, _ cols: Int) -> Int {
            tensors.append(Tensor(name: name, rows: rows, cols: cols, offset: offset))
            defer { offset += rows * cols }
            return offset
        }
        let d = s.embedding, f = s.feedForward
        tokenEmbedding = add("token_embd.weight", s.vocabulary, d)
        var layers: [Layer] = []
        for l in 0..<s.layers {
            let p = "blk.\(l)."
            layers.append(Layer(
                attnNorm: add(p + "attn_norm.weight", 1, d),
                wq: add(p + "attn_q.weight", d, d), wk: add(p + "attn_k.weight", d, d),
                wv: add(p + "attn_v.weight", d, d), wo: add(p + "attn_output.weight", d, d),
                ffnNorm: add(p + "ffn_norm.weight", 1, d),
                gate: add(p + "ffn_gate.weight", f, d), up: add(p + "ffn_up.weight", f, d),
                down: add(p + "ffn_down.weight", d, f)))
        }
        self.layers = layers
        outputNorm = add("output_norm.weight", 1, d)
        self.tensors = tensors
        total = offset
    }
}
