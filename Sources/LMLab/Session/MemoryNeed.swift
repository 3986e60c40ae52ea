import Foundation
import LMEngine

/// What a model will take in memory once loaded, worked out from the file's
/// metadata before anything is allocated, so `load` can refuse a model that
/// would not fit, with the figures.
///
///     weights   the tensors as stored (mapped from the file, paged in as used)
///     KV cache  keys and values in f32 for every position of the context
///     buffers   the activation buffers of one batch and the norm vectors
public struct MemoryNeed: Equatable, Sendable {
    public var weights: Int
    public var kvCache: Int
    public var buffers: Int
    public var context: Int

    public var total: Int { weights + kvCache + buffers }

    public init(weights: Int, kvCache: Int, buffers: Int, context: Int) {
        self.weights = weights; self.kvCache = kvCache; self.buffers = buffers; self.context = context
    }

    /// The need of `gguf` at `contextLength` (nil: the model's own), mirroring
    /// what DecoderModel allocates: KV cache layers·2·context·kvWidth floats;
    /// buffers for a 64-token batch and 8 rows of logits; f32 norm vectors
    /// (counted generously as 4 vectors of d_model per layer).
    public init(gguf: GGUFFile, contextLength: Int?) throws {
        let c = try ModelConfig(gguf: gguf)
        let context = min(contextLength ?? c.contextLength, c.contextLength)
        let float = MemoryLayout<Float>.size
        let batch = 64, logitRows = 8
        let activations = batch * (2 * c.embedding + 2 * c.queryWidth + 2 * c.kvWidth + 2 * c.feedForward)
            + logitRows * c.vocabulary
        let norms = c.layers * 4 * max(c.embedding, c.headDim) + c.embedding
        self.init(weights: gguf.fileSize, kvCache: c.layers * 2 * context * c.kvWidth * float,
                  buffers: (activations + norms) * float, context: context)
    }

    /// nil when it fits in `available` bytes; otherwise the one-line refusal with the figures.
    public func refusal(name: String, available: Int) -> String? {
        guard total > available else { return nil }
        var message = "\(name) would not fit: it needs \(TextUtil.bytes(total)) (weights \(TextUtil.bytes(weights)) + KV cache "
            + "\(TextUtil.bytes(kvCache)) for \(TextUtil.grouped(context)) tokens + buffers \(TextUtil.bytes(buffers))) "
            + "but only \(TextUtil.bytes(available)) is available"
        // A shorter context may be enough: the KV cache is what grows with it.
        let spare = available - weights - buffers
        if spare > 0, kvCache > 0 {
            let perToken = max(1, kvCache / max(1, context))
            let fits = spare / perToken
            if fits >= 256 { message += " — try --context \(fits / 256 * 256)" }
        }
        return message + (spare <= 0 ? " — unload a model first ('models --loaded' shows what each takes)" : "")
    }

    /// MemAvailable from /proc/meminfo (nil where the system doesn't say).
    public static func available() -> Int? { ModelLoader.availableMemory() }
}
