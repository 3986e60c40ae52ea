/// The shape of a decoder-only transformer, read from GGUF metadata
/// (`<arch>.block_count`, `<arch>.embedding_length`, …). Nothing is hard-coded.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var name: String
    public var layers: Int
    /// d_model: the width of the residual stream.
    public var embedding: Int
    public var heads: Int
    public var kvHeads: Int
    /// Width of one attention head; heads × headDim may differ from `embedding` (Gemma).
    public var headDim: Int
    public var feedForward: Int
    public var vocabulary: Int
    /// The context the model was trained for.
    public var contextLength: Int
    public var ropeBase: Float
    /// How many leading dimensions of each head RoPE rotates (`rope.dimension_count`; phi's
    /// partial rotary rotates fewer than headDim).
    public var ropeDimensions: Int
    public var rmsEpsilon: Float
    /// `general.file_type`'s label, e.g. "Q4_1" (the file's mixture label; tensors may differ).
    public var fileType: String?

    public var queryWidth: Int { heads * headDim }
    public var kvWidth: Int { kvHeads * headDim }
}

extension ModelConfig {
    /// Reads `<arch>.*` metadata (block_count, embedding_length, …) into a config,
    /// checking every figure is in a sane range before anything is allocated.
    public init(gguf: GGUFFile) throws {
        let a = try gguf.string("general.architecture")
        func int(_ key: String) throws -> Int { try gguf.int("\(a).\(key)") }
        let embedding = try int("embedding_length")
        let heads = try int("attention.head_count")
        let kvHeads = (try? int("attention.head_count_kv")) ?? heads
        guard heads > 0, kvHeads > 0, heads % kvHeads == 0 else {
            throw ModelError.badConfig("\(heads) attention heads can't share \(kvHeads) key/value heads")
        }
        let headDim = (try? int("attention.key_length")) ?? embedding / heads
        let vocabulary = try gguf.tensor(named: "token_embd.weight").map { $0.rowCount }
            ?? { throw ModelError.missingTensor("token_embd.weight") }()
        let config = ModelConfig(
            architecture: a,
            name: (try? gguf.string("general.name")) ?? "unnamed",
            layers: try int("block_count"),
            embedding: embedding, heads: heads, kvHeads: kvHeads, headDim: headDim,
            feedForward: try int("feed_forward_length"),
            vocabulary: vocabulary,
            contextLength: try int("context_length"),
            ropeBase: (try? gguf.float("\(a).rope.freq_base")) ?? 10_000,
            ropeDimensions: (try? int("rope.dimension_count")) ?? headDim,
            rmsEpsilon: try gguf.float("\(a).attention.layer_norm_rms_epsilon"),
            fileType: (try? gguf.int("general.file_type")).flatMap(ModelLoader.fileTypeName))
        // Heads and head size are bounded too: heads × head size (and the KV cache
        // size built from it) must not overflow for a corrupt file.
        guard (1...512).contains(config.layers), (1...65_536).contains(embedding),
              heads <= 1_024, (2...4_096).contains(headDim), headDim % 2 == 0,
              (1...1 << 20).contains(config.feedForward), (1...1 << 24).contains(config.contextLength) else {
            throw ModelError.badConfig("layers \(config.layers), width \(embedding), heads \(heads), head size \(headDim), "
                                       + "feed-forward \(config.feedForward), context \(config.contextLength) out of range")
        }
        guard (2...headDim).contains(config.ropeDimensions), config.ropeDimensions % 2 == 0 else {
            throw ModelError.badConfig("RoPE turns \(config.ropeDimensions) of \(headDim) dimensions per head")
        }
        self = config
    }
}


/// Errors loading a model: one line each, naming what is wrong.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case missingTensor(String)
    case badTensorShape(name: String, expected: [Int], actual: [Int])
    case unsupportedTensorType(name: String, type: String)
    case badConfig(String)
    case promptTooLong(tokens: Int, context: Int)
    case tooLargeForMemory(needed: Int, available: Int)
    case kvCacheTooLarge(layers: Int, context: Int, kvWidth: Int)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            return "unsupported architecture '\(printable(a))' (supported: \(ArchitectureRegistry.names.joined(separator: ", ")))"
        case .missingTensor(let n): return "the file has no tensor '\(n)'"
        case let .badTensorShape(name, expected, actual):
            return "tensor '\(name)' has shape \(actual), expected \(expected)"
        case let .unsupportedTensorType(name, type):
            return "tensor '\(name)' has type \(type), which lmlab can't compute with yet"
        case .badConfig(let m): return "bad model metadata: \(m)"
        case let .promptTooLong(tokens, context):
            return "the prompt has \(tokens) tokens; the context holds \(context)"
        case let .tooLargeForMemory(needed, available):
            return "the model needs about \(needed >> 20) MiB but only \(available >> 20) MiB of memory is available"
        case let .kvCacheTooLarge(layers, context, kvWidth):
            return "the KV cache for \(context) tokens × \(layers) layers × \(kvWidth) floats can't be reserved"
        }
    }
}

/// RoPE context-stretching schemes named in `<arch>.rope.scaling.type`. Llama 3 bakes its
/// stretching into `rope_freqs.weight` and LongRoPE into factor tensors, which the
/// architectures read; a linear or YaRN rescale of every angle is not implemented, and a
/// file asking for one is refused rather than run with the wrong positions.
public enum RoPEScaling {
    public static func requireNone(_ gguf: GGUFFile) throws {
        let a = try gguf.string("general.architecture")
        guard let type = try? gguf.string("\(a).rope.scaling.type"), type != "none" else { return }
        let factor = (try? gguf.float("\(a).rope.scaling.factor")) ?? 1
        if factor == 1 || factor == 0 { return }
        throw ModelError.badConfig("RoPE scaling '\(printable(type))' (factor \(factor)) is not supported")
    }
}
