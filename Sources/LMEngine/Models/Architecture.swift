import Foundation

/// One decoder architecture, named as GGUF's `general.architecture` names it.
///
/// Adding an architecture is one file and one line:
///   1. `Models/NAME.swift`: a `final class … : DecoderModel, Architecture` whose
///      `init(_ builder:)` reads its config and tensors through the builder (which
///      checks each shape), then calls `super.init(builder, config:)`, and whose
///      `block` is one transformer layer written with the named steps (LayerSteps.swift);
///   2. its type in `ArchitectureRegistry.builtIn` below.
/// The README's "Adding an architecture" checklist says the same with the details.
public protocol Architecture: DecoderModel {
    /// `general.architecture`, e.g. "llama".
    static var architectureName: String { get }
    /// `tokenizer.ggml.pre` names this family's files use beyond the common ones,
    /// each mapped to one of the splitter's patterns (PreTokenizer.swift).
    static var preTokenizers: [String: PreTokenizer] { get }
    init(_ builder: ModelBuilder) throws
    /// The tensors `synth` writes for a random-weight file of this shape (nil: it can't).
    static func syntheticLayout(_ shape: SyntheticModel.Shape) -> SyntheticLayout?
}

extension Architecture {
    public static var preTokenizers: [String: PreTokenizer] { [:] }
    public static func syntheticLayout(_ shape: SyntheticModel.Shape) -> SyntheticLayout? { nil }
}

/// Architecture name → type. The built-in ones are listed here; a test (or a plug-in)
/// may `register` more, which is how the suite proves the one-file checklist.
public enum ArchitectureRegistry {
    /// The architectures lmlab ships, one line each.
    static let builtIn: [any Architecture.Type] = [
        LlamaModel.self,
        Gemma2Model.self,
        Gemma3Model.self,
        Phi3Model.self,
        Qwen2Model.self,
        Qwen3Model.self,
    ]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var registered: [String: any Architecture.Type] =
        Dictionary(uniqueKeysWithValues: builtIn.map { ($0.architectureName, $0) })

    /// Adds (or replaces) an architecture under its `architectureName`.
    public static func register(_ type: any Architecture.Type) {
        lock.withLock { registered[type.architectureName] = type }
    }

    /// The type for `general.architecture`, or nil.
    public static func type(named name: String) -> (any Architecture.Type)? {
        lock.withLock { registered[name] }
    }

    /// Every supported `general.architecture`, sorted: the list the "unsupported" error gives.
    public static var names: [String] {
        lock.withLock { registered.keys.sorted() }
    }

    /// Every extra pre-tokenizer name any registered architecture declares.
    static var preTokenizers: [String: PreTokenizer] {
        lock.withLock { registered.values.reduce(into: [:]) { all, type in all.merge(type.preTokenizers) { a, _ in a } } }
    }
}
