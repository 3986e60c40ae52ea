import Foundation
import LMEngine

/// `cascade run`: every tier answers every item of a workload (once: answers
/// are cached), then each router is replayed over those answers.
enum CascadeRunAction {
    static func run(_ args: Arguments, session: Session) throws {
        guard args.positionals.isEmpty else { throw CommandError.usage("cascade run takes options only, e.g. cascade run --workload arithmetic") }
        var workload = try loadWorkload(args.options["workload"] ?? "mixed", session: session)
        let tiers = try chosenTiers(args, session: session)
        if let tasks = args.options["tasks"] {
            let wanted = Set(tasks.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
            let known = Set(workload.items.map(\.task))
            if let unknown = wanted.subtracting(known).sorted().first {
                throw CommandError.usage("no items of task '\(TextUtil.sanitize(unknown))' in \(workload.name); its tasks: "
                                         + known.sorted().joined(separator: ", "))
            }
            workload.items = workload.items.filter { wanted.contains($0.task) }
            workload.name += " (tasks: " + wanted.sorted().joined(separator: ", ") + ")"
        }
        if let limit: Int = try args.number("limit", in: 1...1_000_000) { workload.items = Array(workload.items.prefix(limit)) }
        let score = try confidenceScore(args.options["score"])
        let rule = try ruleRouter(args)
        let seed: Int = try args.number("seed", in: 0...Int(UInt32.max)) ?? 42

        let rungs = try tiers.map { tier -> CascadeRunner.Rung in
            if let api = session.models.api(tier.model) { return CascadeRunner.Rung(tier: tier, answerer: APITierAnswerer(api: api)) }
            let loaded = try session.models.require(tier.model)
            return CascadeRunner.Rung(tier: tier, model: loaded.model, cacheKey: cacheKey(loaded, session: session))
        }
        let cache = args.flag("no-cache") ? nil : AnswerCache(folder: session.home.appendingPathComponent("cascade-cache"))
        let console = session.console
        let json = args.json
        if !json {
            console.line("workload \(workload.name): \(workload.items.count) items · tiers "
                         + tiers.map(\.name).joined(separator: " → "))
        }
        let bar = json ? nil : ProgressBar(label: "answering", total: Double(workload.items.count * rungs.count),
                                           unit: "answers", console: console)
        let result = try CascadeRunner(rungs: rungs, cache: cache).run(
            workload.items, shouldStop: { session.interrupt.isSet }, progress: { done, _ in bar?.update(Double(done)) },
            failure: { tier, item, reason in
                // One line each, on stderr so the report (and --json) stays whole; the run goes on.
                console.note("cascade: \(tier.name) on item \(TextUtil.sanitize(item.id)): \(reason.detail) — counted as unanswered by \(tier.name)")
            })
        bar?.finish(Double(result.records.count * rungs.count))
        do { try cache?.save() } catch {
            // The answers are in memory and this run's report is whole; only the next run loses them.
            console.note("cascade: answers not saved to the cache (\(cache?.folder.path ?? "")): \(TextUtil.reason(for: error))")
        }
        guard !result.records.isEmpty else { throw CommandError.interrupted }

        let analysis = CascadeAnalysis(records: result.records, tiers: tiers, score: score, rule: rule, seed: UInt64(seed))
        session.cascade.lastRun = CascadeState.LastRun(workload: workload.name, records: result.records, analysis: analysis)
        for (name, value) in CascadeReportView.figures(analysis) { session.figures[name] = value }
        if json {
            console.line(try JSONText.encode(CascadeReportJSON(workload: workload.name, itemsPlanned: workload.items.count,
                                                               records: result.records, analysis: analysis,
                                                               computed: result.computed, cached: result.cached, skipped: result.skipped, failed: result.failed,
                                                               stopped: result.stopped)))
            return
        }
        if result.stopped {
            console.line(console.styled("stopped by Ctrl-C: partial results over the \(result.records.count) of \(workload.items.count) items answered",
                                        .yellow))
        }
        console.line("answers: \(result.computed) computed now, \(result.cached) from the cache (\(cache.map { $0.folder.path } ?? "off"))"
                     + (result.skipped - result.failed > 0 ? ", \(result.skipped - result.failed) passes skipped (a tier that can't take the item)" : "")
                     + (result.failed > 0 ? ", \(result.failed) API calls failed (each counted as unanswered by its tier)" : ""))
        console.line(CascadeReportView.render(analysis, console: console, detail: args.flag("detail")))
    }

    static func chosenTiers(_ args: Arguments, session: Session) throws -> [Tier] {
        var names: [String]?
        if let list = args.options["tiers"] { names = list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if args.options["slm"] != nil || args.options["llm"] != nil {
            guard names == nil, let slm = args.options["slm"], let llm = args.options["llm"] else {
                throw CommandError.usage("give --slm and --llm together (or --tiers A,B,…)")
            }
            names = [slm, llm]
        }
        let all = CascadeTierAction.tiers(session: session, names: nil)
        if let names {
            for n in names where !all.contains(where: { $0.name == n || $0.model == n }) {
                throw CommandError.usage("no tier or loaded model named '\(TextUtil.sanitize(n))'; tiers: "
                                         + (all.isEmpty ? "none (load models first)" : all.map(\.name).joined(separator: ", ")))
            }
        }
        let tiers = CascadeTierAction.tiers(session: session, names: names)
        guard tiers.count >= 2 else {
            throw CommandError.state("a cascade needs at least two tiers: load two models, e.g. 'load smollm2' then 'load gemma3'")
        }
        return tiers
    }

    /// A workload by path, or by name from the workloads folder (./workloads, then the checkout's).
    static func loadWorkload(_ word: String, session: Session) throws -> Workload {
        let fm = FileManager.default
        var candidates: [URL] = []
        if word.contains("/") || word.hasSuffix(".jsonl") {
            candidates.append(URL(fileURLWithPath: (word as NSString).expandingTildeInPath))
        } else {
            candidates = workloadFolders().map { $0.appendingPathComponent(word + ".jsonl") }
        }
        guard let url = candidates.first(where: { fm.fileExists(atPath: $0.path) }) else {
            let names = workloadFolders().flatMap { (try? fm.contentsOfDirectory(atPath: $0.path)) ?? [] }
                .filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(6)) }
            let unique = Array(Set(names)).sorted()
            let hint = Suggest.closest(to: word, in: unique).map { " — did you mean '\($0)'?" } ?? ""
            throw CommandError.usage("no workload '\(TextUtil.sanitize(word))'\(hint); give a .jsonl path or one of: "
                                     + (unique.isEmpty ? "(none found)" : unique.joined(separator: ", ")))
        }
        do {
            return try Workload.load(url)
        } catch let e as WorkloadError {
            throw CommandError.failed(e.description)
        }
    }

    /// ./workloads, then the workloads folder of the checkout the binary was built in.
    static func workloadFolders() -> [URL] {
        var out = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("workloads")]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                out.append(dir.appendingPathComponent("workloads")); break
            }
        }
        return out
    }

    static func confidenceScore(_ raw: String?) throws -> ConfidenceScore {
        // margin: the best-ranked score on the shipped workloads with these models (docs/cascade.md, "Defaults").
        guard let raw else { return .margin }
        guard let s = ConfidenceScore(rawValue: raw) else {
            let names = ConfidenceScore.allCases.map(\.rawValue)
            let hint = Suggest.closest(to: raw, in: names).map { " — did you mean '\($0)'?" } ?? ""
            throw CommandError.usage("unknown score '\(TextUtil.sanitize(raw))'\(hint); one of: " + names.joined(separator: ", "))
        }
        return s
    }

    static func ruleRouter(_ args: Arguments) throws -> RuleRouter {
        func list(_ key: String) -> [String]? {
            args.options[key].map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        }
        let longer: Int? = try args.number("rule-longer", in: 0...1_000_000)
        let custom = args.options["rule-tasks"] != nil || longer != nil || args.options["rule-keywords"] != nil
        // By default the tasks where the larger model measured more accurate than SmolLM2 on the
        // shipped workloads (docs/cascade.md, "Defaults"); "factual" was the guess before, and the worst task to send up.
        return RuleRouter(tasks: Set(list("rule-tasks") ?? (custom ? [] : ["arithmetic", "instruction"])), longerThan: longer,
                          keywords: list("rule-keywords") ?? [])
    }

    /// What identifies a model's answers: its file (name, size, and a fingerprint of its content,
    /// since a retrained model can keep the name and size), the weights in use (the file's or a
    /// `quant` type), and the activation precision of the dot products.
    static func cacheKey(_ loaded: LoadedModel, session: Session) -> String {
        let weights = loaded.weightSet.map { "quant-" + $0.requested.name } ?? "file"
        // A file that can't be read now (moved since it was loaded) gets a key no run shares:
        // recomputing is safe, another file's answers are not.
        let content = ModelFileFingerprint.of(loaded.url) ?? "unreadable-\(UUID().uuidString)"
        return "\(loaded.url.lastPathComponent)|\(loaded.model.gguf.fileSize)|\(content)|\(weights)|act-\(session.settings.string("activations"))"
    }
}
