import Foundation

/// Perplexity the way llama-perplexity measures it, so the figures compare:
/// the text is tokenized once and cut into non-overlapping chunks of `context`
/// tokens; each chunk starts from an empty cache (with BOS in its first slot
/// when the model adds one); only the second half of each chunk is scored, so
/// every scored token has at least context/2 tokens of history.
/// PPL = exp(mean negative log-likelihood) over the scored tokens.
public struct PerplexityResult: Sendable, Codable, Equatable {
    public var perplexity: Double
    /// ± one standard error of the PPL estimate (llama-perplexity's figure).
    public var standardError: Double
    public var chunks: Int
    public var scoredTokens: Int
    public var textTokens: Int
    public var seconds: Double
    /// Running PPL after each chunk, for a sparkline.
    public var runningPerplexity: [Double]
}

public enum Perplexity {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case textTooShort(tokens: Int, context: Int)
        case interrupted
        public var description: String {
            switch self {
            case let .textTooShort(tokens, context):
                return "the text has \(tokens) tokens; perplexity needs at least 2 × context (\(2 * context))"
            case .interrupted: return "interrupted"
            }
        }
    }

    public static func measure(model: DecoderModel, text: String, context: Int = 256,
                               maxChunks: Int? = nil, shouldStop: () -> Bool = { false },
                               progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> PerplexityResult {
        let (tokens, chunks) = try Perplexity.tokenChunks(model: model, text: text, context: context, maxChunks: maxChunks)
        let first = context / 2
        var nllSum = 0.0, nll2Sum = 0.0
        var count = 0
        var running: [Double] = []
        let start = Date()
        for c in 0..<chunks {
            if shouldStop() { throw Failure.interrupted }
            let chunk = Perplexity.chunk(c, of: tokens, context: context, tokenizer: model.tokenizer)
            model.reset()
            // Logits at position j predict token j+1; score j in first..<context-1.
            try model.forward(chunk, logitsFrom: first, shouldStop: shouldStop) { j, logits in
                guard j < context - 1 else { return }
                let nll = negativeLogLikelihood(logits, target: Int(chunk[j + 1]))
                nllSum += nll; nll2Sum += nll * nll; count += 1
            }
            running.append(exp(nllSum / Double(count)))
            progress(c + 1, chunks, running.last!)
        }
        let mean = nllSum / Double(count)
        let variance = max(0, nll2Sum / Double(count) - mean * mean)
        let ppl = exp(mean)
        let error = count > 1 ? ppl * (variance / Double(count - 1)).squareRoot() : 0
        return PerplexityResult(perplexity: ppl, standardError: error, chunks: chunks, scoredTokens: count,
                                textTokens: tokens.count, seconds: Date().timeIntervalSince(start),
                                runningPerplexity: running)
    }

    /// The text as llama-perplexity tokenizes it, and how many whole chunks it makes.
    /// BOS (when the model uses one) is part of the token stream that is cut into chunks.
    public static func tokenChunks(model: DecoderModel, text: String, context: Int,
                                   maxChunks: Int?) throws -> (tokens: [Int32], chunks: Int) {
        let tokens = model.tokenizer.encode(text, addBOS: model.tokenizer.addsBOS, parseSpecial: false)
        guard context >= 4, context <= model.cache.capacity else {
            throw ModelError.promptTooLong(tokens: context, context: model.cache.capacity)
        }
        var chunks = tokens.count / context
        if let maxChunks { chunks = min(chunks, maxChunks) }
        guard chunks >= 1, tokens.count >= 2 * context || maxChunks != nil else {
            throw Failure.textTooShort(tokens: tokens.count, context: context)
        }
        return (tokens, chunks)
    }

    /// Chunk c, with BOS replacing its first token when the model uses one.
    public static func chunk(_ c: Int, of tokens: [Int32], context: Int, tokenizer: Tokenizer) -> [Int32] {
        var chunk = Array(tokens[(c * context)..<((c + 1) * context)])
        if tokenizer.addsBOS, let bos = tokenizer.bosID { chunk[0] = bos }
        return chunk
    }

    /// −log softmax(logits)[target], computed stably in double.
    public static func negativeLogLikelihood(_ logits: UnsafeBufferPointer<Float>, target: Int) -> Double {
        -LogSumExp(logits).logProbability(logits[target])
    }
}
