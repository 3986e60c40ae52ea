import Foundation

/// What one model answered to one item, with the per-token figures the
/// confidence routers read. Cached on disk, so it is Codable.
public struct TierAnswer: Codable, Equatable, Sendable {
    /// The greedy answer's text (exact), or the choice picked (choice).
    public var text: String
    /// Per answer token (the stopping token included): log p of the token taken,
    /// p(top-1) − p(top-2), and the entropy of the distribution in nats.
    /// For a choice item: one entry over the choices (their likelihoods normalised).
    public var logProbabilities: [Double]
    public var margins: [Double]
    public var entropies: [Double]
    public var inputTokens: Int
    public var outputTokens: Int
    /// Wall time the model took on this machine (measured).
    public var seconds: Double
    /// Set when the tier could not take the query at all (see SkipReason); the answer is then empty.
    public var skipped: SkipReason?
    /// The prompt text the tier was given when it was not the item's own: the item's compact form.
    public var promptUsed: String?
    /// True when an API tier's server answered without token logprobs: its confidence is
    /// unknown, so the answer is never kept by a confidence router (nil for local tiers).
    public var noLogprobs: Bool?

    public init(text: String, logProbabilities: [Double], margins: [Double], entropies: [Double],
                inputTokens: Int, outputTokens: Int, seconds: Double, skipped: SkipReason? = nil, promptUsed: String? = nil) {
        self.text = text; self.logProbabilities = logProbabilities; self.margins = margins
        self.entropies = entropies; self.inputTokens = inputTokens; self.outputTokens = outputTokens; self.seconds = seconds
        self.skipped = skipped; self.promptUsed = promptUsed
    }

    /// A tier that could not take the query: no answer, no tokens billed, and the
    /// seconds the check took (tokenizing the prompt; no call was made).
    public static func skipped(_ reason: SkipReason, seconds: Double) -> TierAnswer {
        TierAnswer(text: "", logProbabilities: [], margins: [], entropies: [], inputTokens: 0, outputTokens: 0,
                   seconds: seconds, skipped: reason)
    }
}

/// Why a tier could not take a query. A cascade treats it as the surest kind of
/// "unsure": the query goes on to the next tier whatever the router says.
public struct SkipReason: Error, Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// The prompt (or a choice) has characters the tokenizer has no tokens for.
        case vocabulary
        /// Prompt plus answer tokens are more than the tier's context holds.
        case context
        /// An API tier's call failed: unreachable, timeout, 429/5xx, garbage, a dropped stream.
        case failed
        /// An API tier can't score multiple-choice items: that needs the prompt's log-likelihood.
        case unsupported
    }
    public var kind: Kind
    /// One line for people, e.g. "can't read ' ', '⏎', '*' (not in its vocabulary)".
    public var detail: String

    public init(kind: Kind, detail: String) { self.kind = kind; self.detail = detail }

    /// Short words for summaries: "can't read the prompt", "does not fit".
    public var label: String {
        switch kind {
        case .vocabulary: return "can't read the prompt"
        case .context: return "does not fit its context"
        case .failed: return "the API call failed"
        case .unsupported: return "can't score choices over the API"
        }
    }
}

/// The confidence scores a router can threshold; higher always means surer.
public enum ConfidenceScore: String, CaseIterable, Codable, Sendable {
    /// Mean token log-probability (Chow-Average, the geometric mean of probabilities, in logs).
    case mean
    /// The least likely token's log-probability.
    case min
    /// The 10th percentile of the token log-probabilities (Chow-Quantile).
    case q10
    /// The smallest top-1 − top-2 probability margin over the answer's tokens.
    case margin
    /// Minus the mean entropy (nats) of the answer tokens' distributions.
    case entropy

    public var label: String {
        switch self {
        case .mean: return "mean token log-prob"
        case .min: return "min token log-prob"
        case .q10: return "10th-percentile token log-prob"
        case .margin: return "min top-2 margin"
        case .entropy: return "−mean entropy (nats)"
        }
    }

    public func value(_ a: TierAnswer) -> Double {
        // No answer is less sure than any answer (an empty margin list would otherwise read as 0).
        if a.skipped != nil { return -.infinity }
        switch self {
        case .mean: return a.logProbabilities.isEmpty ? -.infinity : a.logProbabilities.reduce(0, +) / Double(a.logProbabilities.count)
        case .min: return a.logProbabilities.min() ?? -.infinity
        case .q10: return Quantile.of(a.logProbabilities, 0.1) ?? -.infinity
        // No figures at all (a server that sent no logprobs) is as unsure as no answer.
        case .margin: return a.margins.min() ?? -.infinity
        case .entropy: return a.entropies.isEmpty ? -.infinity : -(a.entropies.reduce(0, +) / Double(a.entropies.count))
        }
    }
}

/// Quantiles by linear interpolation between order statistics (numpy's default):
/// q of n sorted values sits at position q·(n−1).
public enum Quantile {
    public static func of(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let position = Swift.max(0, Swift.min(1, q)) * Double(s.count - 1)
        let lo = Int(position.rounded(.down)), hi = Int(position.rounded(.up))
        return s[lo] + (s[hi] - s[lo]) * (position - Double(lo))
    }
}
