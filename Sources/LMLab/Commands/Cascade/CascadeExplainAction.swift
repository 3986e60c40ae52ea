import Foundation

/// `cascade explain N`: one query of the last run, step by step — each tier's
/// answer and confidence, the router's decision, and the gold answer.
enum CascadeExplainAction {
    static func run(_ args: Arguments, session: Session) throws {
        guard let last = session.cascade.lastRun else { throw CommandError.state("no cascade run yet — try 'cascade run'") }
        guard args.positionals.count == 1, let word = args.positional(0) else {
            throw CommandError.usage("usage: cascade explain N (1 to \(last.records.count), or an item id)")
        }
        let index: Int
        if let n = Int(word) {
            guard (1...last.records.count).contains(n) else {
                throw CommandError.usage("N must be between 1 and \(last.records.count), got \(n)")
            }
            index = n - 1
        } else if let i = last.records.firstIndex(where: { $0.item.id == word }) {
            index = i
        } else {
            throw CommandError.usage("no item '\(TextUtil.sanitize(word))' in the last run (give 1 to \(last.records.count) or an item id)")
        }
        let a = last.analysis
        let threshold: Double = try args.options["threshold"].map { raw in
            guard let t = Double(raw), t.isFinite else { throw CommandError.usage("--threshold expects a number, got '\(TextUtil.sanitize(raw))'") }
            return t
        } ?? defaultThreshold(a)
        if args.json {
            return session.console.line(try JSONText.encode(ExplainJSON(last.records[index], number: index + 1, analysis: a, threshold: threshold)))
        }
        session.console.line(explain(last.records[index], number: index + 1, of: last.records.count, analysis: a,
                                     threshold: threshold, console: session.console))
    }

    /// `cascade explain N --json`: the same path as data.
    struct ExplainJSON: Encodable {
        struct Step: Encodable {
            var tier: String; var place: String; var answer: String; var correct: Bool
            var confidence: [String: Double]; var tokens_in: Int; var tokens_out: Int
            var latency_s: Double; var latency_kind: String; var cost: Double; var reached: Bool; var escalates: Bool?
            var skipped: String?; var prompt_used: String?
        }
        var number: Int; var id: String; var task: String; var gold: [String]
        var score: String; var threshold: Double; var steps: [Step]
        var final_tier: String; var correct: Bool; var cost: Double; var latency_s: Double; var oracle_tier: String

        init(_ r: ItemRecord, number: Int, analysis a: CascadeAnalysis, threshold: Double) {
            let router = ConfidenceRouter(score: a.score, threshold: threshold)
            let path = CascadeSimulator.path(r, router: router)
            self.number = number; id = r.item.id; task = r.item.task; gold = r.item.answers
            score = a.score.rawValue; self.threshold = threshold
            steps = a.tiers.indices.map { i in
                Step(tier: a.tiers[i].name, place: a.tiers[i].profile.place.rawValue, answer: r.answers[i].text, correct: r.correct[i],
                     confidence: Dictionary(uniqueKeysWithValues: ConfidenceScore.allCases.map { ($0.rawValue, JSONNumber.finite($0.value(r.answers[i]))) }),
                     tokens_in: r.answers[i].inputTokens, tokens_out: r.answers[i].outputTokens, latency_s: r.latencies[i],
                     latency_kind: a.tiers[i].profile.provenance, cost: r.costs[i], reached: i <= path.finalTier,
                     escalates: i < a.tiers.count - 1 && i <= path.finalTier ? (r.answers[i].skipped != nil || router.escalates(r, from: i)) : nil,
                     skipped: r.answers[i].skipped?.detail, prompt_used: r.answers[i].promptUsed)
            }
            final_tier = a.tiers[path.finalTier].name; correct = path.correct; cost = path.cost; latency_s = path.latency
            oracle_tier = a.tiers[CascadeSimulator.path(r, router: OracleRouter()).finalTier].name
        }
    }

    /// The threshold that met the target, else the most accurate one, else the sweep point
    /// nearest half the queries escalated.
    static func defaultThreshold(_ a: CascadeAnalysis) -> Double {
        if let t = a.target.point?.threshold, t.isFinite { return t }
        if let t = a.target.mostAccurate?.threshold, t.isFinite { return t }
        let finite = a.sweep.filter { $0.threshold?.isFinite ?? false }
        return finite.min { abs($0.largeShare - 0.5) < abs($1.largeShare - 0.5) }?.threshold ?? 0
    }

    static func explain(_ r: ItemRecord, number: Int, of total: Int, analysis a: CascadeAnalysis,
                        threshold: Double, console: Console) -> String {
        let item = r.item
        var out: [String] = []
        out.append(console.styled("item \(number) of \(total)", .bold) + " · \(item.id) · \(item.task) · scored by \(item.scoring.rawValue)")
        let lines = item.prompt.split(separator: "\n", omittingEmptySubsequences: false)
        // The query itself is at the end; the lines before it are few-shot examples.
        let shown = lines.suffix(2).map { TextUtil.sanitize(String($0)) }.joined(separator: " ⏎ ")
        out.append("prompt (\(lines.count) line\(lines.count == 1 ? "" : "s"), the last \(min(2, lines.count)) shown): " + shown)
        if item.scoring == .choice { out.append("choices: " + item.choices.map { "\"\(TextUtil.sanitize($0))\"" }.joined(separator: ", ")) }
        out.append("gold: " + item.answers.map { "\"\(TextUtil.sanitize($0))\"" }.joined(separator: " or "))
        let router = ConfidenceRouter(score: a.score, threshold: threshold)
        let path = CascadeSimulator.path(r, router: router)
        for (i, tier) in a.tiers.enumerated() {
            let ans = r.answers[i]
            let mark = r.correct[i] ? console.styled("✓ right", .green) : console.styled("✗ wrong", .red)
            out.append("")
            out.append(console.styled("tier \(i + 1): \(tier.name)", .bold) + " (\(tier.profile.place.rawValue))"
                       + (i > path.finalTier ? console.styled("  — not reached on this path", .dim) : ""))
            if let skip = ans.skipped {
                out.append("  skipped: \(skip.detail)")
                out.append(String(format: "  no call made · %.4f s to check · $0", r.latencies[i]))
                if i < a.tiers.count - 1 && i <= path.finalTier {
                    out.append("  decision: this tier can't take the query → escalate to \(a.tiers[i + 1].name)")
                }
                continue
            }
            if let used = ans.promptUsed { out.append("  given the compact form \"\(TextUtil.sanitize(used))\" (it can't read the full prompt)") }
            out.append("  answer \"\(TextUtil.sanitize(ans.text))\" \(mark)")
            out.append("  confidence: " + ConfidenceScore.allCases.map { s in
                String(format: "%@ %.3f", s.rawValue, s.value(ans))
            }.joined(separator: " · "))
            let latency = tier.profile.place == .cloud
                ? String(format: "%.2f s (%.2f s compute measured + %.0f ms round trip simulated)", r.latencies[i], ans.seconds, tier.profile.rttMilliseconds)
                : String(format: "%.2f s measured", r.latencies[i]) + (tier.profile.place == .api ? " over the API" : "")
            let costKind = tier.profile.place == .api ? "from the server's usage" : "simulated"
            out.append("  \(ans.inputTokens) tokens in, \(ans.outputTokens) out · \(latency) · "
                       + (r.costs[i] == 0 ? "$0" : String(format: "$%.7f %@", r.costs[i], costKind)))
            if i < a.tiers.count - 1 && i <= path.finalTier {
                let v = a.score.value(ans)
                let goes = router.escalates(r, from: i)
                out.append(String(format: "  decision: %@ %.3f %@ threshold %.3f → %@", a.score.rawValue, v, goes ? "<" : "≥", threshold,
                                  goes ? "escalate to \(a.tiers[i + 1].name)" : "keep this answer"))
            }
        }
        out.append("")
        out.append("path at \(a.score.rawValue) threshold \(String(format: "%.3f", threshold)): "
                   + a.tiers[0...path.finalTier].map(\.name).joined(separator: " → ")
                   + " · answer " + (path.correct ? "right" : "wrong")
                   + " · " + (path.cost == 0 ? "$0" : String(format: "$%.7f", path.cost)) + String(format: " · %.2f s", path.latency))
        let oracle = CascadeSimulator.path(r, router: OracleRouter())
        out.append("the oracle would stop at \(a.tiers[oracle.finalTier].name)"
                   + (oracle.correct ? "" : " (no tier is right, so it stays on the cheapest)"))
        return out.joined(separator: "\n")
    }
}
