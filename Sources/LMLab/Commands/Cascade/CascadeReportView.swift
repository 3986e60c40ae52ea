import Foundation

/// The text `cascade run` prints from an analysis: baselines, the threshold
/// sweep, the routers' RouteLLM figures, the frontier chart and the verdict.
enum CascadeReportView {
    /// Where a tier's latency and cost come from, per place.
    static func figuresNote(_ place: CostProfile.Place) -> String {
        switch place {
        case .device: return "latency: measured; cost: $0 (device)"
        case .cloud: return "latency: measured compute + simulated RTT; cost: simulated"
        case .api: return "latency: measured over the API; cost: the server's usage × the tier's prices"
        }
    }

    /// The short report (tiers, baselines, the routers' APGR and CPT, the verdict), or with
    /// `detail` the whole: threshold sweep, every router, the frontier chart.
    static func render(_ a: CascadeAnalysis, console: Console, detail: Bool = true) -> String {
        var out: [String] = []
        let lastName = a.tiers.last?.name ?? "large"
        out.append("")
        out.append(console.styled("tiers", .bold))
        for (i, t) in a.tiers.enumerated() { out.append("  \(i + 1). \(t.name) — \(t.profile.summary)") }
        for (i, t) in a.intake.enumerated() {
            if t.withoutLogprobs > 0 {
                out.append("  \(t.tier)'s server returned no token logprobs for \(t.withoutLogprobs) of \(t.items) answers: "
                           + (i + 1 < a.tiers.count ? "its confidence is unknown, so those always go on to \(a.tiers[i + 1].name) — "
                              + "a server without logprobs is usable only as the last tier"
                              : "as the last tier it needs none"))
            }
            if t.compact > 0 { out.append("  \(t.tier) read \(t.compact) of \(t.items) items in their compact form") }
            guard t.skipped > 0 else { continue }
            let reasons = [(t.skippedVocabulary, "can't read the prompt"), (t.skippedContext, "do not fit its context"),
                           (t.failed, "API calls failed"), (t.unsupported, "choice items an API can't score")]
                .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
            let next = i + 1 < a.tiers.count ? "go on to \(a.tiers[i + 1].name) whatever the router says" : "count as wrong"
            out.append("  \(t.tier) could not take \(t.skipped) of \(t.items) items (\(reasons)): they \(next); "
                       + (t.failed > 0 ? "a failed call costs $0 and the seconds until it failed" : "such a pass costs $0 and the check's time"))
        }

        out.append("")
        out.append(console.styled("single tiers (every query to one tier)", .bold))
        var singles = Table(["baseline", "accuracy", "$ / 1M queries", "p50 latency", "p95 latency", "figures"])
        for (i, p) in a.singles.enumerated() {
            singles.add([p.label, percent(p.accuracy), dollars(p.costPerQuery * 1_000_000), seconds(p.latencyP50), seconds(p.latencyP95),
                         a.tiers[i].profile.provenance])
        }
        if a.intake.first.map({ $0.skipped > 0 }) == true {
            let p = a.floor
            let simulated = zip(p.answeredBy, a.tiers).contains { $0.0 > 0 && $0.1.profile.place == .cloud }
            singles.add([floorLabel(a), percent(p.accuracy), dollars(p.costPerQuery * 1_000_000), seconds(p.latencyP50),
                         seconds(p.latencyP95), simulated ? "simulated" : "measured"])
        }
        out.append(singles.render(console: console))

        if a.byTask.count > 1 {
            out.append("")
            out.append(console.styled("accuracy by task", .bold))
            var tasks = Table(["task", "items"] + a.tiers.map(\.name) + ["oracle"])
            for row in a.byTask { tasks.add([row.task, "\(row.items)"] + row.accuracy.map(percent) + [percent(row.oracleAccuracy)]) }
            out.append(tasks.render(console: console))
        }

        if !detail {
            out.append("")
            out.append(summary(a, console: console))
            out.append("")
            out.append(verdict(a))
            out.append(console.styled("'cascade run … --detail' adds the threshold sweep, every router and the cost–quality chart; "
                                      + "'cascade explain N' shows one query's path.", .dim))
            return out.joined(separator: "\n")
        }

        out.append("")
        out.append(console.styled("threshold sweep — escalate when \(a.score.label) < threshold", .bold))
        var sweep = Table(["threshold", "accuracy", "to \(lastName)", "answered by", "$ / 1M queries", "total $", "p50", "p95"])
        for p in a.sweep {
            sweep.add([threshold(p.threshold), percent(p.accuracy), percent(p.largeShare),
                       p.answeredBy.map { String(format: "%.0f", $0 * 100) }.joined(separator: "/") + "%",
                       dollars(p.costPerQuery * 1_000_000), dollars(p.totalCost), seconds(p.latencyP50), seconds(p.latencyP95)])
        }
        out.append(sweep.render(console: console))
        out.append(console.styled("answered by: share of queries each tier (" + a.tiers.map(\.name).joined(separator: "/")
                                  + ") answered in the end; latency adds every tier a query visited", .dim))

        out.append("")
        out.append(console.styled("routers (AUC = accuracy averaged over the share of queries to \(lastName), 0 to 100%; "
                                  + "RouteLLM figures: APGR = share of the accuracy gap recovered on average; "
                                  + "CPT(x%) = share of queries to \(lastName) needed to recover x% of the gap)", .bold))
        var routers = Table(["router", "items", "AUC", "APGR", "CPT(50%)", "CPT(80%)"])
        for r in a.routers {
            routers.add([r.router, "\(r.items)", percent(r.auc), r.apgr.map { String(format: "%.3f", $0) } ?? "n/a",
                         r.cpt50.map(percent) ?? "n/a", r.cpt80.map(percent) ?? "n/a"])
        }
        out.append(routers.render(console: console))
        let scored = a.routers.filter { $0.router.hasPrefix("confidence: ") }
        if let best = scored.max(by: { $0.auc < $1.auc }),
           let score = ConfidenceScore.allCases.first(where: { "confidence: " + $0.label == best.router }), score != a.score {
            out.append(String(format: "best confidence score on these items: %@ (AUC %@) — 'cascade run --score %@' sweeps it",
                              score.label, percent(best.auc), score.rawValue))
        }
        out.append("rule router (\(a.ruleDescription)): accuracy \(percent(a.rule.accuracy)) with \(percent(a.rule.largeShare)) to \(lastName), "
                   + "\(dollars(a.rule.costPerQuery * 1_000_000)) / 1M queries")
        out.append("oracle: accuracy \(percent(a.oracle.accuracy)) with \(percent(a.oracle.largeShare)) to \(lastName) — the upper bound")
        if let missing = a.routers.first(where: { $0.apgr == nil }) {
            // The learned router is judged on its held-out half, where the gap can vanish while the whole set has one.
            let whichItems = a.routers.contains(where: { $0.apgr != nil }) ? " for \(missing.router.split(separator: " ").first ?? ""): on its items " : ": on these items "
            out.append(console.styled("n/a" + whichItems + "\(lastName) is not more accurate than "
                                      + (floorLabel(a).hasPrefix("always ") ? a.tiers[0].name : "each query's first tier that can take it")
                                      + ", so there is no gap to recover", .dim))
        }

        out.append("")
        out.append(console.styled("cost–quality frontier", .bold))
        out.append(chart(a).render())

        out.append("")
        out.append(verdict(a))
        if a.heldOutCheck == nil, a.target.bestCost > 0 {
            out.append("held-out check: on the even-numbered items alone no threshold meets the target, so there is none to try on the others "
                       + "— the threshold above is in-sample only")
        }
        if let h = a.heldOutCheck {
            out.append("held-out check: the " + (h.picked == .target ? "threshold meeting the target" : "most accurate threshold")
                       + " on the even-numbered items (\(a.score.rawValue) ≥ \(threshold(h.threshold))) "
                       + "gives on the other \(h.items): accuracy \(percent(h.accuracy)) against \(h.bestTier)'s \(percent(h.bestAccuracy)), "
                       + "\(percent(h.largeShare)) escalated, \(dollars(h.costPerQuery * 1_000_000)) / 1M queries"
                       + (h.costShare.map { String(format: " (%.0f%% of its cost)", $0 * 100) } ?? ""))
        }
        out.append(console.styled("latency: device tiers measured on this machine; cloud tiers = measured compute + simulated round trip. "
                                  + "Prices are simulated. 'cascade explain N' shows one query's path.", .dim))
        return out.joined(separator: "\n")
    }

    /// The routers that matter, in one small table: the chosen confidence score, random, learned, oracle.
    static func summary(_ a: CascadeAnalysis, console: Console) -> String {
        let lastName = a.tiers.last?.name ?? "large"
        var out = [console.styled("routers — APGR: share of the accuracy gap to \(lastName) recovered (random ≈ 0.5, the oracle the ceiling); "
                                  + "CPT(50%): share of queries sent to \(lastName) to recover half of it", .bold)]
        var t = Table(["router", "APGR", "CPT(50%)"])
        for r in a.routers where r.router == "confidence: " + a.score.label || r.router == "random" || r.router.hasPrefix("learned") || r.router == "oracle" {
            t.add([r.router, r.apgr.map { String(format: "%.3f", $0) } ?? "n/a", r.cpt50.map(percent) ?? "n/a"])
        }
        out.append(t.render(console: console))
        out.append("oracle: accuracy \(percent(a.oracle.accuracy)) with \(percent(a.oracle.largeShare)) to \(lastName) — the upper bound")
        if a.routers.contains(where: { $0.apgr == nil }) {
            out.append(console.styled("n/a: \(lastName) is not more accurate than \(floorLabel(a)) on these items, so there is no gap to recover", .dim))
        }
        return out.joined(separator: "\n")
    }

    /// The figures a lesson cell checks and puts into words (`session.figures`).
    static func figures(_ a: CascadeAnalysis) -> [String: Double] {
        var f: [String: Double] = ["small_accuracy_pct": a.floor.accuracy * 100,
                                   "large_accuracy_pct": (a.singles.last?.accuracy ?? 0) * 100,
                                   "oracle_accuracy_pct": a.oracle.accuracy * 100,
                                   "oracle_large_share_pct": a.oracle.largeShare * 100,
                                   "small_p50_s": a.floor.latencyP50, "small_p95_s": a.floor.latencyP95,
                                   "large_p50_s": a.singles.last?.latencyP50 ?? 0, "large_p95_s": a.singles.last?.latencyP95 ?? 0,
                                   "large_cost_per_query": a.singles.last?.costPerQuery ?? 0]
        for r in a.routers {
            let key = r.router == "confidence: " + a.score.label ? "" : r.router == "random" ? "_random"
                : r.router.hasPrefix("learned") ? "_learned" : r.router == "oracle" ? "_oracle" : nil
            guard let key else { continue }
            if let v = r.apgr { f["apgr" + key] = v }
            if let v = r.cpt50 { f["cpt50" + key + "_pct"] = v * 100 }
        }
        return f
    }

    static func chart(_ a: CascadeAnalysis) -> FrontierChart {
        var c = FrontierChart()
        let weak = a.floor.accuracy, strong = a.singles.last?.accuracy ?? 0
        c.baselines = [(floorLabel(a), weak), (a.singles.last?.label ?? "large", strong)]
        let diagonal = stride(from: 0.0, through: 1.0001, by: 0.02).map { (x: $0, y: weak + (strong - weak) * $0) }
        c.series.append(.init(name: "random (diagonal)", mark: "·", points: diagonal))
        if let learned = a.routers.first(where: { $0.router.hasPrefix("learned") }) {
            c.series.append(.init(name: "learned (held-out)", mark: "L", points: learned.points.map { ($0.largeShare, $0.accuracy) }))
        }
        c.series.append(.init(name: "confidence (\(a.score.rawValue))", mark: "●", points: a.sweep.map { ($0.largeShare, $0.accuracy) }))
        c.series.append(.init(name: "rule", mark: "R", points: [(a.rule.largeShare, a.rule.accuracy)]))
        c.series.append(.init(name: "oracle", mark: "◆", points: [(a.oracle.largeShare, a.oracle.accuracy)]))
        return c
    }

    /// Whether a threshold reaches ≥ 95% of the best single tier's accuracy at ≤ 50% of its cost.
    static func verdict(_ a: CascadeAnalysis) -> String {
        let t = a.target
        let head = "target: ≥ 95% of the best single tier's accuracy (\(t.bestTier), \(percent(t.bestAccuracy))) "
            + "at ≤ 50% of its cost (\(dollars(t.bestCost * 1_000_000 / Double(max(1, a.singles.first?.items ?? 1)))) / 1M queries)"
        if t.bestCost == 0 {
            var text = head + " — the best tier runs on the device at $0, so no cascade is cheaper than keeping every query on \(t.bestTier)."
            if let m = t.mostAccurate, m.accuracy > t.bestAccuracy {
                text += " But the cascade is more accurate than either tier: \(percent(m.accuracy)) at \(a.score.rawValue) ≥ "
                    + "\(threshold(m.threshold)), \(percent(m.largeShare)) escalated, \(dollars(m.costPerQuery * 1_000_000)) / 1M queries."
            }
            return text
        }
        if let p = t.point {
            return head + " — met at \(a.score.rawValue) ≥ \(threshold(p.threshold)): accuracy \(percent(p.accuracy)), "
                + "\(percent(p.largeShare)) to the largest tier, \(dollars(p.costPerQuery * 1_000_000)) / 1M queries "
                + String(format: "(%.0f%% of the cost)", p.totalCost / t.bestCost * 100)
        }
        var why = head + " — no threshold meets it."
        if let c = t.bestWithinCost { why += " Within the cost limit the best is \(percent(c.accuracy)) (\(percent(c.largeShare)) escalated)." }
        if let q = t.cheapestWithinAccuracy {
            why += String(format: " Reaching the accuracy takes %@ escalated, %.0f%% of the cost.",
                          percent(q.largeShare), q.totalCost / t.bestCost * 100)
        }
        return why
    }

    /// "always <first tier>", or when that tier can't take every query, what the floor is.
    static func floorLabel(_ a: CascadeAnalysis) -> String {
        a.intake.first.map { $0.skipped > 0 } == true ? "first tier that can take it" : (a.singles.first?.label ?? "small")
    }

    static func percent(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
    static func dollars(_ v: Double) -> String {
        v == 0 ? "$0" : v >= 100 ? String(format: "$%.0f", v) : v >= 1 ? String(format: "$%.2f", v) : String(format: "$%.4f", v)
    }
    static func seconds(_ v: Double) -> String { String(format: "%.2f s", v) }
    static func threshold(_ t: Double?) -> String {
        guard let t else { return "–" }
        if t == -.infinity { return "−∞ (never)" }
        if t == .infinity { return "+∞ (always)" }
        return String(format: "%.3f", t)
    }
}

/// `cascade run --json`: the whole analysis plus each item's answers.
struct CascadeReportJSON: Encodable {
    struct ItemJSON: Encodable {
        var id: String; var task: String; var gold: [String]
        var answers: [String]; var correct: [Bool]; var costs: [Double]; var latencies_s: [Double]
        var tokens_in: [Int]; var tokens_out: [Int]; var compute_s: [Double]
        var confidence: [[String: Double]]
        /// Per tier: why it could not take the item (nil: it answered), and the compact prompt it was given (nil: the full one).
        var skipped: [String?]; var prompt_used: [String?]
    }
    var workload: String
    var items_planned: Int
    var items_answered: Int
    var answers_computed: Int
    var answers_cached: Int
    var answers_skipped: Int
    /// API calls that failed (also counted in answers_skipped).
    var answers_failed: Int
    var stopped_early: Bool
    var figures: [String: String]
    var analysis: CascadeAnalysisJSON
    var items: [ItemJSON]

    init(workload: String, itemsPlanned: Int, records: [ItemRecord], analysis: CascadeAnalysis, computed: Int, cached: Int, skipped: Int, failed: Int = 0, stopped: Bool) {
        self.workload = workload
        items_planned = itemsPlanned
        items_answered = records.count
        answers_computed = computed; answers_cached = cached; answers_skipped = skipped; answers_failed = failed; stopped_early = stopped
        figures = Dictionary(uniqueKeysWithValues: analysis.tiers.map {
            ($0.name, CascadeReportView.figuresNote($0.profile.place))
        })
        self.analysis = CascadeAnalysisJSON(analysis)
        items = records.map { r in
            ItemJSON(id: r.item.id, task: r.item.task, gold: r.item.answers, answers: r.answers.map(\.text), correct: r.correct,
                     costs: r.costs, latencies_s: r.latencies, tokens_in: r.answers.map(\.inputTokens),
                     tokens_out: r.answers.map(\.outputTokens), compute_s: r.answers.map(\.seconds),
                     confidence: r.answers.map { a in
                         Dictionary(uniqueKeysWithValues: ConfidenceScore.allCases.map { ($0.rawValue, JSONNumber.finite($0.value(a))) })
                     },
                     skipped: r.answers.map { $0.skipped?.detail }, prompt_used: r.answers.map(\.promptUsed))
        }
    }
}

/// The analysis with infinite thresholds written as ±1e308 (JSON has no infinity).
struct CascadeAnalysisJSON: Encodable {
    var value: CascadeAnalysis
    init(_ a: CascadeAnalysis) {
        var a = a
        func clean(_ p: inout OperatingPoint) { p.threshold = p.threshold.map(JSONNumber.finite) }
        for i in a.sweep.indices { clean(&a.sweep[i]) }
        for r in a.routers.indices { for i in a.routers[r].points.indices { clean(&a.routers[r].points[i]) } }
        if var p = a.target.point { clean(&p); a.target.point = p }
        if var p = a.target.mostAccurate { clean(&p); a.target.mostAccurate = p }
        if var h = a.heldOutCheck { h.threshold = JSONNumber.finite(h.threshold); a.heldOutCheck = h }
        if var p = a.target.bestWithinCost { clean(&p); a.target.bestWithinCost = p }
        if var p = a.target.cheapestWithinAccuracy { clean(&p); a.target.cheapestWithinAccuracy = p }
        value = a
    }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

enum JSONNumber {
    static func finite(_ v: Double) -> Double {
        if v.isNaN { return 0 }
        return v == .infinity ? 1e308 : v == -.infinity ? -1e308 : v
    }
}
