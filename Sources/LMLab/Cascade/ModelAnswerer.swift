import Foundation
import LMEngine

/// Puts one workload item to one model and records its answer and confidence figures.
///
/// exact:  greedy tokens until a newline, an end token, or `maxTokens`; at each
///         step the chosen token's log-probability, the top-2 margin and the
///         entropy of the whole distribution are kept (the stopping token too:
///         deciding to stop is part of the answer).
/// choice: the prompt runs once; each choice's tokens are scored after it
///         (rewinding the KV cache to the prompt), and the most likely choice
///         is the answer. Its confidence is over the choices, normalised.
public enum ModelAnswerer {
    /// The prompt a model is given for an item: the item's own, or its compact form.
    public struct PreparedPrompt: Equatable {
        public let tokens: [Int32]
        public let text: String
        public let isCompact: Bool
    }

    /// A model whose tokenizer can't read the item (a character it has no token for)
    /// or whose context can't hold prompt and answer is skipped: the answer is
    /// empty, no tokens are billed, and the seconds are the time this check took.
    public static func answer(_ item: WorkloadItem, model: DecoderModel, shouldStop: () -> Bool = { false }) throws -> TierAnswer {
        let start = Date()
        let prepared: PreparedPrompt
        switch prepare(item, model: model) {
        case let .failure(reason): return .skipped(reason, seconds: Date().timeIntervalSince(start))
        case let .success(p): prepared = p
        }
        model.reset()
        var answer = item.scoring == .exact
            ? try greedy(prepared.tokens, maxTokens: item.maxTokens, model: model, shouldStop: shouldStop)
            : try choose(prepared.tokens, choices: item.choices, model: model)
        answer.promptUsed = prepared.isCompact ? prepared.text : nil
        answer.seconds = Date().timeIntervalSince(start)
        return answer
    }

    /// The item's prompt if the model can read it and it fits; else its compact form
    /// if that can and does; else why not (the compact form's reason when there is one).
    public static func prepare(_ item: WorkloadItem, model: DecoderModel) -> Result<PreparedPrompt, SkipReason> {
        let full = check(item.prompt, item: item, model: model, isCompact: false)
        guard case let .failure(fullReason) = full, let compact = item.compactPrompt else { return full }
        switch check(compact, item: item, model: model, isCompact: true) {
        case let .success(p): return .success(p)
        case let .failure(r):
            return .failure(SkipReason(kind: r.kind, detail: "compact form \"\(TextUtil.sanitize(compact))\": \(r.detail); full prompt: \(fullReason.detail)"))
        }
    }

    static func check(_ text: String, item: WorkloadItem, model: DecoderModel, isCompact: Bool) -> Result<PreparedPrompt, SkipReason> {
        let tokenizer = model.tokenizer
        let unreadable = unreadableCharacters(text + item.choices.joined(), tokenizer: tokenizer)
        if !unreadable.isEmpty {
            let shown = unreadable.prefix(8).map { "'" + visible($0) + "'" }.joined(separator: ", ") + (unreadable.count > 8 ? ", …" : "")
            return .failure(SkipReason(kind: .vocabulary, detail: "can't read \(shown) (not in its vocabulary)"))
        }
        let prompt = tokenizer.encode(text, addBOS: tokenizer.addsBOS, parseSpecial: false)
        let extra = item.scoring == .exact ? item.maxTokens
            : item.choices.map { tokenizer.encode($0, addBOS: false, parseSpecial: false).count }.max() ?? 0
        guard !prompt.isEmpty, prompt.count + extra <= model.cache.capacity else {
            return .failure(SkipReason(kind: .context, detail: "\(prompt.count) prompt tokens + \(extra) answer tokens "
                                       + "don't fit its context of \(model.cache.capacity)"))
        }
        return .success(PreparedPrompt(tokens: prompt, text: text, isCompact: isCompact))
    }

    /// The characters of `text` (each once, in order) that don't come back from
    /// encoding and decoding: ones the vocabulary has no token or byte for. A
    /// space the tokenizer puts in front (SentencePiece's prefix) doesn't count.
    public static func unreadableCharacters(_ text: String, tokenizer: Tokenizer) -> [Character] {
        var seen = Set<Character>(), out: [Character] = []
        for c in text where seen.insert(c).inserted {
            let s = String(c)
            let back = tokenizer.decode(tokenizer.encode(s, addBOS: false, parseSpecial: false))
            if back != s && back != " " + s { out.append(c) }
        }
        return out
    }

    static func visible(_ c: Character) -> String {
        switch c {
        case "\n": return "⏎"
        case "\t": return "⇥"
        default: return TextUtil.sanitize(String(c))
        }
    }

    static func greedy(_ prompt: [Int32], maxTokens: Int, model: DecoderModel, shouldStop: () -> Bool) throws -> TierAnswer {
        let tokenizer = model.tokenizer
        var logits = try model.logitsAfter(prompt)
        var bytes: [UInt8] = []
        var logProbabilities: [Double] = [], margins: [Double] = [], entropies: [Double] = []
        var produced = 0
        while true {
            if shouldStop() { throw CommandError.interrupted }
            let step = logits.withUnsafeBufferPointer { StepFigures($0) }
            logProbabilities.append(step.topLogProbability)
            margins.append(step.margin)
            entropies.append(step.entropy)
            let next = step.top
            if next == tokenizer.eosID || tokenizer.endOfTurnIDs.contains(next) { break }
            bytes += tokenizer.bytes(next)
            produced += 1
            if bytes.contains(UInt8(ascii: "\n")) || produced >= maxTokens { break }
            logits = try model.logitsAfter([next])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let firstLine = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return TierAnswer(text: firstLine.trimmingCharacters(in: .whitespaces), logProbabilities: logProbabilities,
                          margins: margins, entropies: entropies, inputTokens: prompt.count, outputTokens: produced, seconds: 0)
    }

    static func choose(_ prompt: [Int32], choices: [String], model: DecoderModel) throws -> TierAnswer {
        let tokenizer = model.tokenizer
        let afterPrompt = try model.logitsAfter(prompt)
        var scores: [Double] = []
        var inputTokens = prompt.count
        for choice in choices {
            let ids = tokenizer.encode(choice, addBOS: false, parseSpecial: false)
            guard let first = ids.first else { throw CommandError.usage("the choice '\(choice)' gives no tokens") }
            inputTokens += ids.count
            model.rewind(to: prompt.count)
            var total = afterPrompt.withUnsafeBufferPointer { LogSumExp($0).logProbability($0[Int(first)]) }
            if ids.count > 1 {
                try model.forward(ids, logitsFrom: 0) { i, logits in
                    if i + 1 < ids.count { total += LogSumExp(logits).logProbability(logits[Int(ids[i + 1])]) }
                }
            }
            scores.append(total)
        }
        let figures = ChoiceFigures(logLikelihoods: scores)
        return TierAnswer(text: choices[figures.best], logProbabilities: [figures.bestLogProbability],
                          margins: [figures.margin], entropies: [figures.entropy],
                          inputTokens: inputTokens, outputTokens: 1, seconds: 0)
    }
}

/// One decoding step's figures from its logits: the greedy token (lowest id on
/// ties, as the sampler's argmax), its log-probability, p(top-1) − p(top-2),
/// and the entropy −Σ p log p in nats.
public struct StepFigures {
    public let top: Int32
    public let topLogProbability: Double
    public let margin: Double
    public let entropy: Double

    public init(_ logits: UnsafeBufferPointer<Float>) {
        let lse = LogSumExp(logits)
        var second = -Float.infinity
        for (i, v) in logits.enumerated() where i != lse.top && v > second { second = v }
        // H = log Z − Σ p_i·l_i, with p_i = exp(l_i − log Z)
        var expected = 0.0
        for v in logits { expected += exp(Double(v) - lse.logZ) * Double(v) }
        top = Int32(lse.top)
        topLogProbability = lse.logProbability(logits[lse.top])
        margin = exp(topLogProbability) - (second == -.infinity ? 0 : exp(lse.logProbability(second)))
        entropy = Swift.max(0, lse.logZ - expected)
    }
}

/// A multiple-choice answer's figures from each choice's total log-likelihood:
/// the probabilities softmax-normalised over the choices.
public struct ChoiceFigures: Equatable {
    public let best: Int
    public let probabilities: [Double]
    public var bestLogProbability: Double { log(probabilities[best]) }
    public var margin: Double {
        let sorted = probabilities.sorted(by: >)
        return sorted[0] - (sorted.count > 1 ? sorted[1] : 0)
    }
    public var entropy: Double { -probabilities.reduce(0) { $1 > 0 ? $0 + $1 * log($1) : $0 } }

    public init(logLikelihoods: [Double]) {
        let top = logLikelihoods.max() ?? 0
        let e = logLikelihoods.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        probabilities = e.map { $0 / sum }
        // The first of equally likely choices wins.
        best = logLikelihoods.firstIndex(of: top) ?? 0
    }
}
