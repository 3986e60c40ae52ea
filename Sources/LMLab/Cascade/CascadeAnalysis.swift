import Foundation

/// Everything `cascade run` reports, worked out from the item records: the
/// single-tier baselines, the confidence-threshold sweep, each router's curve
/// and RouteLLM figures, and whether some threshold reaches the target
/// (≥ 95% of the best single tier's accuracy at ≤ 50% of its cost).
public struct CascadeAnalysis: Codable, Sendable {
    /// A router's curve and its summary over the same items.
    public struct RouterSummary: Codable, Sendable {
        public var router: String
        public var items: Int
        /// Area under the curve, x = share of queries to the last tier from 0 to 1: the
        /// router's accuracy averaged over every escalation rate (over the rates it can
        /// reach, when some queries must go to the last tier). Defined even when APGR is
        /// not, and ranks routers on the same items as APGR does.
        public var auc: Double
        public var apgr: Double?
        public var cpt50: Double?
        public var cpt80: Double?
        public var points: [OperatingPoint]
    }

    public struct Target: Codable, Sendable {
        public var bestTier: String
        public var bestAccuracy: Double
        public var bestCost: Double
        /// The cheapest sweep point with accuracy ≥ 95% of the best and cost ≤ 50% of its cost.
        public var point: OperatingPoint?
        /// Closest misses: the most accurate point within the cost limit, the cheapest within the accuracy limit.
        public var bestWithinCost: OperatingPoint?
        public var cheapestWithinAccuracy: OperatingPoint?
        /// The most accurate sweep point (the cheapest of equals), whatever it costs.
        public var mostAccurate: OperatingPoint?
    }

    /// Accuracy of each tier on each task type, and of the oracle: where the tiers differ.
    public struct TaskRow: Codable, Sendable {
        public var task: String
        public var items: Int
        public var accuracy: [Double]
        public var oracleAccuracy: Double
    }

    /// What each tier could take: items given in compact form, items skipped and why.
    public struct Intake: Codable, Sendable {
        public var tier: String
        public var items: Int
        public var compact: Int
        public var skippedVocabulary: Int
        public var skippedContext: Int
        /// API tiers: calls that failed, choice items it can't score, and answers that came without logprobs.
        public var failed: Int
        public var unsupported: Int
        public var withoutLogprobs: Int
        public var skipped: Int { skippedVocabulary + skippedContext + failed + unsupported }
    }

    public var tiers: [Tier]
    public var intake: [Intake]
    public var byTask: [TaskRow]
    public var score: ConfidenceScore
    public var singles: [OperatingPoint]
    /// No escalation by choice: each query answered by the first tier that can take it.
    /// The same as "always" the first tier when that tier takes every query. It is the
    /// weak end of the routers' curves (x = 0) and of APGR and CPT: with a first tier that
    /// can't take most queries, "always first tier" would count those as wrong and every
    /// router would seem to recover more than the whole gap.
    public var floor: OperatingPoint
    /// The chosen confidence score swept over thresholds.
    public var sweep: [OperatingPoint]
    public var routers: [RouterSummary]
    public var oracle: OperatingPoint
    public var rule: OperatingPoint
    public var ruleDescription: String
    public var target: Target
    /// The target's threshold chosen on half the items and tried on the other half (nil when none was met there).
    public var heldOutCheck: HeldOutCheck?

    public struct HeldOutCheck: Codable, Sendable {
        public enum Picked: String, Codable, Sendable {
            /// The cheapest threshold meeting the target on the training half.
            case target
            /// The most accurate threshold on the training half (when the best tier is free).
            case mostAccurate
        }
        public var picked: Picked
        public var threshold: Double
        public var items: Int
        public var accuracy: Double
        public var largeShare: Double
        public var costPerQuery: Double
        /// The best single tier (chosen on the training half), and its accuracy on the held-out half.
        public var bestTier: String
        public var bestAccuracy: Double
        /// The cascade's cost as a share of that tier's (nil when the tier is free).
        public var costShare: Double?
    }

    public init(records: [ItemRecord], tiers: [Tier], score: ConfidenceScore, rule: RuleRouter, seed: UInt64 = 42) {
        self.tiers = tiers
        intake = tiers.indices.map { t in
            let answers = records.map { $0.answers[t] }
            return Intake(tier: tiers[t].name, items: records.count, compact: answers.filter { $0.promptUsed != nil }.count,
                          skippedVocabulary: answers.filter { $0.skipped?.kind == .vocabulary }.count,
                          skippedContext: answers.filter { $0.skipped?.kind == .context }.count,
                          failed: answers.filter { $0.skipped?.kind == .failed }.count,
                          unsupported: answers.filter { $0.skipped?.kind == .unsupported }.count,
                          withoutLogprobs: answers.filter { $0.noLogprobs == true }.count)
        }
        byTask = Dictionary(grouping: records, by: \.item.task).map { task, rs in
            TaskRow(task: task, items: rs.count,
                    accuracy: tiers.indices.map { t in Double(rs.filter { $0.correct[t] }.count) / Double(rs.count) },
                    oracleAccuracy: Double(rs.filter { $0.correct.contains(true) }.count) / Double(rs.count))
        }.sorted { $0.task < $1.task }
        self.score = score
        let last = tiers.count - 1
        let singles = tiers.indices.map { CascadeSimulator.single(records, tier: $0, label: "always " + tiers[$0].name) }
        self.singles = singles
        floor = CascadeSimulator.evaluate(records, router: NeverRouter(), label: "first tier that can take it")

        let summary = { CascadeAnalysis.summary($0, $1, $2, last: last) }
        let confidenceSweep = { CascadeAnalysis.confidenceSweep($0, $1, last: last) }
        let sweep = confidenceSweep(score, records)
        self.sweep = sweep
        var routers = ConfidenceScore.allCases.map { s in
            summary("confidence: " + s.label, records, s == score ? sweep : confidenceSweep(s, records))
        }
        routers.append(summary("random", records, stride(from: 0.0, through: 1.0001, by: 0.1).map { p in
            CascadeSimulator.evaluate(records, router: RandomRouter(probability: p, seed: seed), label: "random p=\(p)", threshold: p)
        }))
        // The learned router is fitted on the even-numbered items and judged on the others.
        let training = records.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        let heldOut = records.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        if last > 0, training.count >= 4, !heldOut.isEmpty {
            let models = (0..<last).map { LearnedRouterModel(training: training, tier: $0) }
            let predicted = heldOut.flatMap { r in (0..<last).map { models[$0].probabilityCorrect(r, tier: $0) } }
            let points = ThresholdSweep.thresholds(predicted).map { t in
                CascadeSimulator.evaluate(heldOut, router: LearnedRouter(models: models, threshold: t), label: "P(correct) < \(t)", threshold: t)
            }
            routers.append(summary("learned (logistic, held-out half)", heldOut, points))
        }
        oracle = CascadeSimulator.evaluate(records, router: OracleRouter(), label: "oracle")
        self.rule = CascadeSimulator.evaluate(records, router: rule, label: "rule")
        ruleDescription = rule.description
        routers.append(summary("oracle", records, [floor, oracle, CascadeSimulator.evaluate(records, router: ConfidenceRouter(score: score, threshold: .infinity), label: "all")]))
        self.routers = routers

        target = CascadeAnalysis.target(sweep: sweep, singles: singles, tiers: tiers)

        // The threshold above is picked on the very items it is judged on. The held-out
        // check picks it on the even-numbered items and judges it on the others.
        if training.count >= 2, !heldOut.isEmpty {
            let trainingTarget = CascadeAnalysis.target(sweep: confidenceSweep(score, training),
                                                        singles: tiers.indices.map { CascadeSimulator.single(training, tier: $0, label: "") },
                                                        tiers: tiers)
            // When the best tier is free the target is met by staying on it; what is worth
            // checking out of sample then is the most accurate threshold.
            let free = trainingTarget.bestCost == 0
            if let t = free ? trainingTarget.mostAccurate?.threshold : trainingTarget.point?.threshold,
               let bestIndex = tiers.firstIndex(where: { $0.name == trainingTarget.bestTier }) {
                let judged = CascadeSimulator.evaluate(heldOut, router: ConfidenceRouter(score: score, threshold: t), label: "held out", threshold: t)
                let best = CascadeSimulator.single(heldOut, tier: bestIndex, label: "")
                heldOutCheck = HeldOutCheck(picked: free ? .mostAccurate : .target, threshold: t, items: heldOut.count,
                                            accuracy: judged.accuracy, largeShare: judged.largeShare, costPerQuery: judged.costPerQuery,
                                            bestTier: trainingTarget.bestTier, bestAccuracy: best.accuracy,
                                            costShare: best.totalCost > 0 ? judged.totalCost / best.totalCost : nil)
            }
        }
    }

    static func summary(_ name: String, _ items: [ItemRecord], _ points: [OperatingPoint], last: Int) -> RouterSummary {
        let w = CascadeSimulator.evaluate(items, router: NeverRouter(), label: "").accuracy
        let s = CascadeSimulator.single(items, tier: last, label: "").accuracy
        let curve = points.map { (x: $0.largeShare, y: $0.accuracy) }
        return RouterSummary(router: name, items: items.count, auc: RouterMetrics.meanAccuracy(curve), apgr: RouterMetrics.apgr(curve, weak: w, strong: s),
                             cpt50: RouterMetrics.cpt(curve, weak: w, strong: s, fraction: 0.5),
                             cpt80: RouterMetrics.cpt(curve, weak: w, strong: s, fraction: 0.8), points: points)
    }

    static func confidenceSweep(_ s: ConfidenceScore, _ items: [ItemRecord], last: Int) -> [OperatingPoint] {
        let scores = items.flatMap { r in (0..<last).map { s.value(r.answers[$0]) } }
        return ThresholdSweep.thresholds(scores).map { t in
            CascadeSimulator.evaluate(items, router: ConfidenceRouter(score: s, threshold: t), label: "\(s.rawValue) < \(t)", threshold: t)
        }
    }

    /// The best single tier (most accurate, then cheapest) and the sweep points measured against it.
    static func target(sweep: [OperatingPoint], singles: [OperatingPoint], tiers: [Tier]) -> Target {
        let best = singles.indices.max { a, b in
            singles[a].accuracy < singles[b].accuracy || (singles[a].accuracy == singles[b].accuracy && singles[a].totalCost > singles[b].totalCost)
        } ?? singles.count - 1
        let bestPoint = singles[best]
        let accuracyLimit = 0.95 * bestPoint.accuracy, costLimit = 0.5 * bestPoint.totalCost
        let withinCost = sweep.filter { $0.totalCost <= costLimit + 1e-12 }
        let withinAccuracy = sweep.filter { $0.accuracy >= accuracyLimit - 1e-12 }
        return Target(bestTier: tiers[best].name, bestAccuracy: bestPoint.accuracy, bestCost: bestPoint.totalCost,
                      point: withinCost.filter { $0.accuracy >= accuracyLimit - 1e-12 }.min { $0.totalCost < $1.totalCost },
                      bestWithinCost: withinCost.max { $0.accuracy < $1.accuracy },
                      cheapestWithinAccuracy: withinAccuracy.min { $0.totalCost < $1.totalCost },
                      mostAccurate: sweep.min { $0.accuracy > $1.accuracy || ($0.accuracy == $1.accuracy && $0.totalCost < $1.totalCost) })
    }
}
