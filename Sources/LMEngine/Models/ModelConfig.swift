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
    public var rmsEpsilon: Float
    /// `general.file_type`'s label, e.g. "Q4_1" (the file's mixture label; tensors may differ).
    public var fileType: String?

    public var queryWidth: Int { heads * headDim }
    public var kvWidth: Int { kvHeads * headDim }
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

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            return "unsupported architecture '\(a)' (lmlab runs llama and gemma3)"
        case .missingTensor(let n): return "the file has no tensor '\(n)'"
        case let .badTensorShape(name, expected, actual):
            return "tensor '\(name)' has shape \(actual), expected \(expected)"
        case let .unsupportedTensorType(name, type):
            return "tensor '\(name)' has type \(type), which lmlab can't compute with yet"
        case .badConfig(let m): return "bad model metadata: \(m)"
        case let .promptTooLong(tokens, context):
            return "the prompt has \(tokens) tokens; the context holds \(context) (shorten it or `unload` and load with a larger context)"
        case let .tooLargeForMemory(needed, available):
            return "the model needs about \(needed >> 20) MiB but only \(available >> 20) MiB of memory is available"
        }
    }
}
