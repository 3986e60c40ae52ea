import Foundation

/// Where a model's parameters, bytes and per-token arithmetic go, worked out from
/// the GGUF tensor list alone (names follow llama.cpp: token_embd, blk.N.attn_q, …).
///
/// Bytes are counted per tensor, because a "Q4_K_M" file mixes types
/// (Q4_K, Q6_K, F32 norms…) and its label says little about any one tensor.
public struct ParameterBudget: Sendable {
    /// The parts of a decoder-only transformer, in the order a student reads them.
    public enum Component: String, CaseIterable, Sendable {
        case embeddings = "embeddings"
        case attentionQ = "attention q"
        case attentionK = "attention k"
        case attentionV = "attention v"
        case attentionOutput = "attention o"
        case mlpGate = "MLP gate"
        case mlpUp = "MLP up"
        case mlpDown = "MLP down"
        case norms = "norms"
        case output = "output head"
        case other = "other"
    }

    public struct Part: Sendable {
        public let component: Component
        public var parameters = 0
        public var bytes = 0
        public var tensors = 0
    }

    /// Tensors of one element type: how many, their elements and bytes.
    public struct TypeShare: Sendable {
        public let type: String
        public var tensors = 0
        public var parameters = 0
        public var bytes = 0
    }

    /// One transformer layer's tensors.
    public struct LayerShare: Sendable {
        public let layer: Int
        public var parameters = 0
        public var bytes = 0
        /// Element type → tensor count, e.g. ["Q4_K": 6, "F32": 7, "Q6_K": 1].
        public var types: [String: Int] = [:]
    }

    /// Components that hold parameters, in `Component` order.
    public let parts: [Part]
    /// Element types, most bytes first.
    public let types: [TypeShare]
    public let layers: [LayerShare]
    public let total: Int
    public let totalBytes: Int
    /// No `output.weight`: logits reuse the token embedding matrix.
    public let outputTied: Bool
    /// KV cache at f32, as this engine keeps it: layers × (key + value) × kvWidth × 4 bytes.
    public let kvCacheBytesPerToken: Int
    /// 2 × the multiply-adds of every weight matrix one new token passes through,
    /// output head included (the embedding is a lookup, not a product).
    public let flopsPerToken: Int
    /// Attention's own arithmetic, which grows with the context: q·k and p·v cost
    /// 2 × 2 × queryWidth FLOPs per layer for every position already in the cache.
    public let attentionFlopsPerContextToken: Int

    public init(gguf: GGUFFile, config: ModelConfig) {
        var parts: [Component: Part] = [:]
        var types: [String: TypeShare] = [:]
        var layers: [Int: LayerShare] = [:]
        var matrixMACs = 0
        for t in gguf.tensors {
            let c = ParameterBudget.component(of: t.name)
            parts[c, default: Part(component: c)].parameters += t.elementCount
            parts[c]!.bytes += t.byteCount
            parts[c]!.tensors += 1
            types[t.type.name, default: TypeShare(type: t.type.name)].tensors += 1
            types[t.type.name]!.parameters += t.elementCount
            types[t.type.name]!.bytes += t.byteCount
            if let l = ParameterBudget.layer(of: t.name) {
                layers[l, default: LayerShare(layer: l)].parameters += t.elementCount
                layers[l]!.bytes += t.byteCount
                layers[l]!.types[t.type.name, default: 0] += 1
            }
            // Every 2-D weight inside a layer is one matrix-vector product per token.
            if t.dims.count == 2, c != .embeddings, c != .output, c != .other { matrixMACs += t.elementCount }
        }
        let tied = gguf.tensor(named: "output.weight") == nil
        // The head is vocabulary × embedding whether it has its own matrix or borrows the embedding's.
        matrixMACs += config.vocabulary * config.embedding
        self.parts = Component.allCases.compactMap { parts[$0] }
        self.types = types.values.sorted { $0.bytes > $1.bytes || ($0.bytes == $1.bytes && $0.type < $1.type) }
        self.layers = layers.keys.sorted().map { layers[$0]! }
        total = gguf.tensors.reduce(0) { $0 + $1.elementCount }
        totalBytes = gguf.tensors.reduce(0) { $0 + $1.byteCount }
        outputTied = tied
        kvCacheBytesPerToken = config.layers * 2 * config.kvWidth * MemoryLayout<Float>.size
        flopsPerToken = 2 * matrixMACs
        attentionFlopsPerContextToken = config.layers * 2 * 2 * config.queryWidth
    }

    public init(model: DecoderModel) { self.init(gguf: model.gguf, config: model.config) }

    public func part(_ c: Component) -> Part? { parts.first { $0.component == c } }

    /// Which component a tensor belongs to, by its llama.cpp name.
    public static func component(of name: String) -> Component {
        let base = name.hasSuffix(".weight") || name.hasSuffix(".bias")
            ? String(name[..<name.lastIndex(of: ".")!]) : name
        let last = base.split(separator: ".").last.map(String.init) ?? base
        switch last {
        case "token_embd": return .embeddings
        case "output": return .output
        case "attn_q": return .attentionQ
        case "attn_k": return .attentionK
        case "attn_v": return .attentionV
        case "attn_output": return .attentionOutput
        case "ffn_gate": return .mlpGate
        case "ffn_up": return .mlpUp
        case "ffn_down": return .mlpDown
        default: return last.hasSuffix("norm") ? .norms : .other
        }
    }

    /// N for a "blk.N.…" tensor, nil for the others.
    public static func layer(of name: String) -> Int? {
        let parts = name.split(separator: ".")
        guard parts.count >= 2, parts[0] == "blk" else { return nil }
        return Int(parts[1])
    }
}
