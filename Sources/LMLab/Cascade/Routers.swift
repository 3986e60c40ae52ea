import Foundation

/// What every tier did on one item — everything a router and the metrics need.
/// (The simulator asks every tier once, so any router can be replayed for free.)
public struct ItemRecord: Sendable {
    public let item: WorkloadItem
    /// One entry per tier, cheapest first.
    public let answers: [TierAnswer]
    public let correct: [Bool]
    /// Dollars and seconds of each tier's call on this item.
    public let costs: [Double]
    public let latencies: [Double]

    public init(item: WorkloadItem, answers: [TierAnswer], correct: [Bool], costs: [Double], latencies: [Double]) {
        self.item = item; self.answers = answers; self.correct = correct; self.costs = costs; self.latencies = latencies
    }

    public init(item: WorkloadItem, answers: [TierAnswer], tiers: [Tier]) {
        self.init(item: item, answers: answers, correct: answers.map { $0.skipped == nil && item.isCorrect($0.text) },
                  costs: zip(answers, tiers).map { $1.profile.cost(inputTokens: $0.inputTokens, outputTokens: $0.outputTokens) },
                  // A skipped pass made no call, so no round trip either: just the check's time.
                  latencies: zip(answers, tiers).map { $0.skipped != nil ? $0.seconds : $1.profile.latency(computeSeconds: $0.seconds) })
    }
}

/// Decides, after tier `tier` has answered, whether the query goes on to the next tier.
/// (A tier that could not take the query at all is never asked: the query goes on regardless.)
public protocol Router {
    func escalates(_ record: ItemRecord, from tier: Int) -> Bool
}

/// Escalates when the tier's own confidence in its answer is below a threshold.
public struct ConfidenceRouter: Router {
    public let score: ConfidenceScore
    public let threshold: Double
    public init(score: ConfidenceScore, threshold: Double) { self.score = score; self.threshold = threshold }
    public func escalates(_ record: ItemRecord, from tier: Int) -> Bool {
        score.value(record.answers[tier]) < threshold
    }
}

/// Never escalates by choice: each query stays on the first tier that can take it.
public struct NeverRouter: Router {
    public init() {}
    public func escalates(_ record: ItemRecord, from tier: Int) -> Bool { false }
}

/// Escalates by what the query looks like, before any answer: its task type,
/// its length, or a keyword in it.
public struct RuleRouter: Router {
    public let tasks: Set<String>
    /// Prompts longer than this many characters escalate (nil: no length rule).
    public let longerThan: Int?
    public let keywords: [String]
    public init(tasks: Set<String> = [], longerThan: Int? = nil, keywords: [String] = []) {
        self.tasks = tasks; self.longerThan = longerThan; self.keywords = keywords.map { $0.lowercased() }
    }
    public func escalates(_ record: ItemRecord, from tier: Int) -> Bool {
        let item = record.item
        if tasks.contains(item.task) { return true }
        if let longerThan, item.prompt.count > longerThan { return true }
        let prompt = item.prompt.lowercased()
        return keywords.contains { prompt.contains($0) }
    }
    public var description: String {
        var parts: [String] = []
        if !tasks.isEmpty { parts.append("task in {" + tasks.sorted().joined(separator: ", ") + "}") }
        if let longerThan { parts.append("prompt > \(longerThan) chars") }
        if !keywords.isEmpty { parts.append("keyword in {" + keywords.joined(separator: ", ") + "}") }
        return parts.isEmpty ? "never" : parts.joined(separator: " or ")
    }
}

/// Escalates a fixed share of queries at random: the diagonal every router must beat.
/// The draw is a hash of (item id, tier, seed), so a run is repeatable.
public struct RandomRouter: Router {
    public let probability: Double
    public let seed: UInt64
    public init(probability: Double, seed: UInt64 = 42) { self.probability = probability; self.seed = seed }
    public func escalates(_ record: ItemRecord, from tier: Int) -> Bool {
        RandomRouter.unit(record.item.id, tier: tier, seed: seed) < probability
    }
    /// A uniform number in [0, 1) from FNV-1a over the id, then a splitmix64 finaliser.
    public static func unit(_ id: String, tier: Int, seed: UInt64) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var z = h ^ (UInt64(tier) &* 0x9E37_79B9_7F4A_7C15) ^ seed
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}

/// Knows the gold answers: escalates exactly when this tier is wrong and a later
/// one is right. No real router can do better — the upper bound.
public struct OracleRouter: Router {
    public init() {}
    public func escalates(_ record: ItemRecord, from tier: Int) -> Bool {
        !record.correct[tier] && record.correct[(tier + 1)...].contains(true)
    }
}

/// Escalates when a logistic regression on cheap features predicts that this
/// tier's answer is wrong: P(correct) below the threshold. One model per tier
/// that can escalate, trained on part of the workload (LearnedRouterModel).
public struct LearnedRouter: Router {
    public let models: [LearnedRouterModel]
    public let threshold: Double
    public init(models: [LearnedRouterModel], threshold: Double) { self.models = models; self.threshold = threshold }
    public func escalates(_ record: ItemRecord, from tier: Int) -> Bool {
        models[tier].probabilityCorrect(record, tier: tier) < threshold
    }
}
