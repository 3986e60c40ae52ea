import Foundation

/// Where one router setting lands: quality, share sent to the last (largest)
/// tier, money and latency over the items.
public struct OperatingPoint: Codable, Equatable, Sendable {
    public var label: String
    /// The router's knob: a confidence threshold, a probability, … (nil for fixed routers).
    public var threshold: Double?
    public var items: Int
    public var accuracy: Double
    /// Share of queries that reached the last tier ("strong model calls" in RouteLLM).
    public var largeShare: Double
    /// Share of queries each tier answered in the end.
    public var answeredBy: [Double]
    public var totalCost: Double
    public var latencyP50: Double
    public var latencyP95: Double

    public var costPerQuery: Double { items > 0 ? totalCost / Double(items) : 0 }
}

/// Runs routers over item records: each query starts at tier 0 and goes up
/// while the router says so; its cost and latency add up over every tier it visited.
public enum CascadeSimulator {
    public struct Path: Equatable, Sendable {
        public var finalTier: Int
        public var correct: Bool
        public var cost: Double
        public var latency: Double
        public init(finalTier: Int, correct: Bool, cost: Double, latency: Double) {
            self.finalTier = finalTier; self.correct = correct; self.cost = cost; self.latency = latency
        }
    }

    public static func path(_ record: ItemRecord, router: Router) -> Path {
        var tier = 0
        var cost = record.costs[0], latency = record.latencies[0]
        // A tier that skipped the query has no answer to keep: it goes on whatever the router says.
        while tier < record.answers.count - 1, record.answers[tier].skipped != nil || router.escalates(record, from: tier) {
            tier += 1
            cost += record.costs[tier]
            latency += record.latencies[tier]
        }
        return Path(finalTier: tier, correct: record.correct[tier], cost: cost, latency: latency)
    }

    public static func evaluate(_ records: [ItemRecord], router: Router, label: String, threshold: Double? = nil) -> OperatingPoint {
        point(records.map { path($0, router: router) }, tiers: records.first?.answers.count ?? 1, label: label, threshold: threshold)
    }

    /// One tier alone on every query: the "always small" and "always large" baselines
    /// (the large one called directly, not after the small one).
    public static func single(_ records: [ItemRecord], tier: Int, label: String) -> OperatingPoint {
        let tiers = records.first?.answers.count ?? 1
        return point(records.map { Path(finalTier: tier, correct: $0.correct[tier], cost: $0.costs[tier], latency: $0.latencies[tier]) },
                     tiers: tiers, label: label, threshold: nil)
    }

    static func point(_ paths: [Path], tiers: Int, label: String, threshold: Double?) -> OperatingPoint {
        let n = paths.count
        let share = { (count: Int) in n > 0 ? Double(count) / Double(n) : 0 }
        let latencies = paths.map(\.latency)
        return OperatingPoint(label: label, threshold: threshold, items: n,
                              accuracy: share(paths.filter(\.correct).count),
                              largeShare: share(paths.filter { $0.finalTier == tiers - 1 }.count),
                              answeredBy: (0..<tiers).map { t in share(paths.filter { $0.finalTier == t }.count) },
                              totalCost: paths.reduce(0) { $0 + $1.cost },
                              latencyP50: Quantile.of(latencies, 0.5) ?? 0, latencyP95: Quantile.of(latencies, 0.95) ?? 0)
    }
}

/// RouteLLM's summary figures for a router's curve of (share of calls to the
/// strong model, accuracy) points, between the weak model's accuracy (no calls)
/// and the strong model's (all calls).
public enum RouterMetrics {
    /// The area under the curve over x ∈ [0, 1] by the trapezoid rule, points sorted by x.
    public static func area(_ curve: [(x: Double, y: Double)]) -> Double {
        let s = curve.sorted { $0.x < $1.x }
        return zip(s, s.dropFirst()).reduce(0) { $0 + ($1.1.x - $1.0.x) * ($1.0.y + $1.1.y) / 2 }
    }

    /// The curve's mean accuracy over the x it spans: area / (last x − first x), or the
    /// one point's y. Over [0, 1] it is the area itself. A curve starts above 0 when some
    /// queries must reach the last tier (a first tier that can't take them): averaging
    /// over [0, 1] would then count the unreachable stretch as accuracy 0.
    public static func meanAccuracy(_ curve: [(x: Double, y: Double)]) -> Double {
        guard let lo = curve.map(\.x).min(), let hi = curve.map(\.x).max() else { return 0 }
        return hi > lo ? area(curve) / (hi - lo) : curve.map(\.y).max() ?? 0
    }

    /// Performance gap recovered at one point: 0 at the weak model, 1 at the strong one.
    public static func pgr(_ accuracy: Double, weak: Double, strong: Double) -> Double? {
        strong != weak ? (accuracy - weak) / (strong - weak) : nil
    }

    /// Average performance gap recovered: (AUC − weak) / (strong − weak), the areas
    /// of constant lines over [0, 1] being the accuracies themselves (over a curve that
    /// starts above 0, its mean accuracy; see meanAccuracy). nil when the strong model
    /// is not more accurate: there is no gap to recover.
    public static func apgr(_ curve: [(x: Double, y: Double)], weak: Double, strong: Double) -> Double? {
        guard strong > weak else { return nil }
        return (meanAccuracy(curve) - weak) / (strong - weak)
    }

    /// Call-performance threshold: the smallest share of strong calls at which the
    /// curve (linear between points) reaches weak + fraction·(strong − weak).
    /// nil when the strong model is not better, or the curve never gets there.
    public static func cpt(_ curve: [(x: Double, y: Double)], weak: Double, strong: Double, fraction: Double) -> Double? {
        guard strong > weak else { return nil }
        let target = weak + fraction * (strong - weak)
        let s = curve.sorted { $0.x < $1.x || ($0.x == $1.x && $0.y > $1.y) }
        guard let first = s.first else { return nil }
        if first.y >= target { return first.x }
        for (a, b) in zip(s, s.dropFirst()) where b.y >= target {
            if a.y >= target { return a.x }
            return a.x + (b.x - a.x) * (target - a.y) / (b.y - a.y)
        }
        return nil
    }
}

/// The thresholds a sweep tries: −∞ (never escalate), the scores' quantiles at
/// 0, 1/steps, …, 1, and +∞ (always escalate). With "escalate when score < t",
/// the quantile q escalates about a share q of the queries.
public enum ThresholdSweep {
    public static func thresholds(_ scores: [Double], steps: Int = 20) -> [Double] {
        let finite = scores.filter(\.isFinite)
        var out: [Double] = [-.infinity]
        for i in 0...steps { if let q = Quantile.of(finite, Double(i) / Double(steps)) { out.append(q) } }
        out.append(.infinity)
        var seen = Set<Double>()
        return out.filter { seen.insert($0).inserted }
    }
}
