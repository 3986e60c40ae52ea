import Foundation
import XCTest
import LMEngine
import LMLab

/// A tier that can't take a query — characters its vocabulary has no token for,
/// or more tokens than its context holds — escalates it to the next tier, with
/// the reason kept. Checked with the committed tiny-math (digits and `+-=`
/// only, a 16-token context) in front of SmolLM2.
final class CascadeSkipTests: XCTestCase {
    static let root = LabPaths.packageRoot

    static var tinyMath: URL { get throws { try LabPaths.model("tiny-math.gguf") } }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-cascade-skip-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testTinyMathReadsOnlyDigitsAndSigns() throws {
        let s = Session(console: .capturing(), interrupt: Interrupt(), home: try temporaryFolder())
        XCTAssertTrue(s.run("load \(try Self.tinyMath.path) as tiny"), s.console.capturedErrors)
        let model = try XCTUnwrap(s.models["tiny"]).model
        XCTAssertEqual(ModelAnswerer.unreadableCharacters("354+396=", tokenizer: model.tokenizer), [])
        XCTAssertEqual(ModelAnswerer.unreadableCharacters("2 + 3 = 5\n18 * 12 =", tokenizer: model.tokenizer), [" ", "\n", "*"])

        func item(_ prompt: String, compact: String? = nil) -> WorkloadItem {
            WorkloadItem(id: "a", task: "arithmetic", prompt: prompt, compactPrompt: compact, answers: ["750"], scoring: .exact, maxTokens: 6)
        }
        // The full prompt can't be read; the compact one is given instead: BOS + 8 characters.
        let compact = try ModelAnswerer.prepare(item("2 + 3 = 5\n354 + 396 =", compact: "354+396="), model: model).get()
        XCTAssertEqual(compact.text, "354+396=")
        XCTAssertTrue(compact.isCompact)
        XCTAssertEqual(compact.tokens.count, 9)
        XCTAssertEqual(compact.tokens, model.tokenizer.encode("354+396=", addBOS: true, parseSpecial: false))

        func reason(_ i: WorkloadItem) -> SkipReason? {
            if case let .failure(r) = ModelAnswerer.prepare(i, model: model) { return r }
            return nil
        }
        XCTAssertEqual(reason(item("354 + 396 =")), SkipReason(kind: .vocabulary, detail: "can't read ' ' (not in its vocabulary)"))
        XCTAssertEqual(reason(item("2 + 3 = 5\n18 * 12 =", compact: "18*12=")),
                       SkipReason(kind: .vocabulary, detail: "compact form \"18*12=\": can't read '*' (not in its vocabulary); "
                                  + "full prompt: can't read ' ', '⏎', '*' (not in its vocabulary)"))
        // Readable, but BOS + 18 characters + 6 answer tokens are more than 16.
        XCTAssertEqual(reason(item("123456789012345+1=")),
                       SkipReason(kind: .context, detail: "19 prompt tokens + 6 answer tokens don't fit its context of 16"))
        // A choice it can't read skips the item too, even when the prompt is fine.
        let choice = WorkloadItem(id: "c", task: "t", prompt: "1+1=", answers: ["2"], choices: ["2", "two"], scoring: .choice)
        XCTAssertEqual(reason(choice)?.detail, "can't read 't', 'w', 'o' (not in its vocabulary)")

        // Answering: the compact form, greedy until the end token (750 and EOS: 4 steps, 3 tokens out).
        let answered = try ModelAnswerer.answer(item("2 + 3 = 5\n354 + 396 =", compact: "354+396="), model: model)
        XCTAssertEqual(answered.text, "750")
        XCTAssertEqual(answered.promptUsed, "354+396=")
        XCTAssertNil(answered.skipped)
        XCTAssertEqual(answered.inputTokens, 9)
        XCTAssertEqual(answered.outputTokens, 3)
        XCTAssertEqual(answered.logProbabilities.count, 4, "the stopping token counts")
        // Skipped: nothing said, nothing billed, and every confidence score is −∞.
        let skipped = try ModelAnswerer.answer(item("354 + 396 ="), model: model)
        XCTAssertEqual(skipped.skipped?.kind, .vocabulary)
        XCTAssertEqual(skipped.text, "")
        XCTAssertEqual(skipped.inputTokens + skipped.outputTokens, 0)
        XCTAssertLessThan(skipped.seconds, 0.5, "a tokenizer check, no model call")
        for score in ConfidenceScore.allCases { XCTAssertEqual(score.value(skipped), -.infinity, score.rawValue) }
    }

    /// tiny-math (billed as a cloud tier here, to show that a skipped pass costs
    /// nothing and waits no round trip) then SmolLM2, on four items.
    func testATierThatCantTakeAQueryEscalatesIt() throws {
        let home = try temporaryFolder()
        let s = Session(console: .capturing(), interrupt: Interrupt(), home: home)
        XCTAssertTrue(s.run("load \(try Self.tinyMath.path) as tiny"), s.console.capturedErrors)
        XCTAssertTrue(s.run("load \(try MultiModelTests.smollm2.path) as small --context 256"), s.console.capturedErrors)
        let items = [
            WorkloadItem(id: "add", task: "arithmetic", prompt: "2 + 3 = 5\n354 + 396 =", compactPrompt: "354+396=", answers: ["750"], scoring: .exact, maxTokens: 6),
            WorkloadItem(id: "mul", task: "arithmetic", prompt: "2 + 3 = 5\n18 * 12 =", compactPrompt: "18*12=", answers: ["216"], scoring: .exact, maxTokens: 6),
            WorkloadItem(id: "long", task: "arithmetic", prompt: "123456789012345+1=", answers: ["123456789012346"], scoring: .exact, maxTokens: 6),
            WorkloadItem(id: "capital", task: "factual", prompt: "The capital of France is", answers: ["Paris"], scoring: .exact, maxTokens: 3),
        ]
        let tinyTier = Tier(name: "tiny", model: "tiny", profile: CostProfile(place: .cloud, rttMilliseconds: 350, priceInPerMillion: 1000, priceOutPerMillion: 2000))
        let smallTier = Tier(name: "small", model: "small", profile: .device)
        let rungs = [CascadeRunner.Rung(tier: tinyTier, model: s.models["tiny"]!.model, cacheKey: "tiny"),
                     CascadeRunner.Rung(tier: smallTier, model: s.models["small"]!.model, cacheKey: "small")]
        let result = try CascadeRunner(rungs: rungs, cache: AnswerCache(folder: home.appendingPathComponent("cache"))).run(items)
        XCTAssertEqual(result.skipped, 3)
        XCTAssertEqual(result.computed, 5, "tiny-math once, SmolLM2 four times")
        XCTAssertEqual(result.records.map { $0.answers[0].skipped?.kind }, [nil, .vocabulary, .context, .vocabulary])
        let add = result.records[0]
        XCTAssertEqual(add.answers[0].text, "750")
        XCTAssertTrue(add.correct[0])
        XCTAssertEqual(add.costs[0], 9.0 / 1000 * 1 + 3.0 / 1000 * 2, accuracy: 1e-12, "a real call is billed")
        XCTAssertEqual(add.latencies[0], add.answers[0].seconds + 0.35, accuracy: 1e-12)
        for r in result.records.dropFirst() {
            XCTAssertFalse(r.correct[0], r.item.id)
            XCTAssertEqual(r.costs[0], 0, "\(r.item.id): no call, no bill")
            XCTAssertEqual(r.latencies[0], r.answers[0].seconds, "\(r.item.id): no call, no round trip")
        }
        XCTAssertTrue(result.records[3].correct[1], "SmolLM2 knows the capital tiny-math could not read: \(result.records[3].answers[1].text)")

        // Never escalating by confidence still sends the three skipped items on; so does every router.
        let never = ConfidenceRouter(score: .margin, threshold: -.infinity)
        XCTAssertEqual(result.records.map { CascadeSimulator.path($0, router: never).finalTier }, [0, 1, 1, 1])
        XCTAssertEqual(result.records.map { CascadeSimulator.path($0, router: RuleRouter()).finalTier }, [0, 1, 1, 1])
        let point = CascadeSimulator.evaluate(result.records, router: never, label: "never")
        XCTAssertEqual(point.answeredBy, [0.25, 0.75])
        XCTAssertEqual(point.totalCost, add.costs[0], accuracy: 1e-12)
        // Always tiny-math counts what it could not take as wrong.
        XCTAssertEqual(CascadeSimulator.single(result.records, tier: 0, label: "").accuracy, 0.25)

        let analysis = CascadeAnalysis(records: result.records, tiers: [tinyTier, smallTier], score: .margin, rule: RuleRouter())
        XCTAssertEqual(analysis.intake.map(\.compact), [1, 0])
        XCTAssertEqual(analysis.intake.map(\.skippedVocabulary), [2, 0])
        XCTAssertEqual(analysis.intake.map(\.skippedContext), [1, 0])
        // Three of four items must reach the last tier, so every curve spans x ∈ [.75, 1], and the confidence
        // curve is the floor, then all four on SmolLM2: its AUC is their mean, not the area .25 · mean.
        let margin = try XCTUnwrap(analysis.routers.first { $0.router == "confidence: min top-2 margin" })
        XCTAssertEqual(margin.auc, (analysis.floor.accuracy + analysis.singles[1].accuracy) / 2, accuracy: 1e-12)
        XCTAssertEqual(analysis.floor.largeShare, 0.75)
        // The skipped items' −∞ scores are left out of the thresholds: the one finite threshold is the one answer's margin.
        XCTAssertEqual(analysis.sweep.filter { $0.threshold?.isFinite ?? false }.count, 1)

        // Through the command: a workload file, the summary line, and one skipped item explained.
        let workload = home.appendingPathComponent("w.jsonl")
        let lines = [
            #"{"id": "add", "task": "arithmetic", "prompt": "2 + 3 = 5\n354 + 396 =", "compact_prompt": "354+396=", "answer": "750", "max_tokens": 6}"#,
            #"{"id": "mul", "task": "arithmetic", "prompt": "2 + 3 = 5\n18 * 12 =", "compact_prompt": "18*12=", "answer": "216", "max_tokens": 6}"#,
            #"{"id": "long", "task": "arithmetic", "prompt": "123456789012345+1=", "answer": "123456789012346", "max_tokens": 6}"#,
            #"{"id": "capital", "task": "factual", "prompt": "The capital of France is", "answer": "Paris", "max_tokens": 3}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(to: workload, atomically: true, encoding: .utf8)
        s.console.reset()
        XCTAssertTrue(s.run("cascade run --workload \(workload.path) --tiers tiny,small"), s.console.capturedErrors)
        let report = s.console.captured
        for expected in ["3 passes skipped (a tier that can't take the item)",
                         "tiny read 1 of 4 items in their compact form",
                         "tiny could not take 3 of 4 items (2 can't read the prompt, 1 do not fit its context): they go on to small whatever the router says"] {
            XCTAssertTrue(report.contains(expected), "missing '\(expected)' in\n\(report)")
        }
        s.console.reset()
        XCTAssertTrue(s.run("cascade explain long"), s.console.capturedErrors)
        let explained = s.console.captured
        XCTAssertTrue(explained.contains("  skipped: 19 prompt tokens + 6 answer tokens don't fit its context of 16"), explained)
        XCTAssertTrue(explained.contains("  decision: this tier can't take the query → escalate to small"), explained)
        XCTAssertTrue(explained.contains(": tiny → small · answer "), explained)
        s.console.reset()
        XCTAssertTrue(s.run("cascade explain add --json"), s.console.capturedErrors)
        let steps = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as? [String: Any])?["steps"] as? [[String: Any]])
        XCTAssertEqual(steps[0]["prompt_used"] as? String, "354+396=")
        XCTAssertEqual(steps[0]["answer"] as? String, "750")
    }

    /// Three tiers by hand: a specialist that can't take c and d, a small model, a large one at $1 a call.
    func testForcedEscalationAndTheFloorByHand() {
        let skip = TierAnswer.skipped(SkipReason(kind: .vocabulary, detail: "can't read 'x'"), seconds: 0.001)
        func sure(_ sure: Bool) -> TierAnswer { CascadeLogicTests.answer("x", logProbabilities: [sure ? -0.1 : -3]) }
        func record(_ id: String, _ answers: [TierAnswer], _ correct: [Bool]) -> ItemRecord {
            ItemRecord(item: CascadeLogicTests.item(id), answers: answers, correct: correct, costs: [0, 0, 1], latencies: [0.001, 1, 3])
        }
        let records = [
            record("a", [sure(true), sure(false), sure(true)], [true, false, true]),
            record("b", [sure(false), sure(true), sure(true)], [false, true, true]),
            record("c", [skip, sure(false), sure(true)], [false, false, true]),
            record("d", [skip, sure(true), sure(true)], [false, true, false]),
        ]
        let tiers = ["special", "small", "large"].map { Tier(name: $0, model: $0, profile: $0 == "large" ? .cloud : .device) }
        let a = CascadeAnalysis(records: records, tiers: tiers, score: .mean, rule: RuleRouter())
        XCTAssertEqual(a.singles.map(\.accuracy), [0.25, 0.5, 0.75], "always special counts c and d as wrong")
        // The floor: a and b on the specialist, c and d forced on to the small model.
        XCTAssertEqual(a.floor.accuracy, 0.5)
        XCTAssertEqual(a.floor.answeredBy, [0.5, 0.5, 0])
        XCTAssertEqual(a.intake.map(\.skippedVocabulary), [2, 0, 0])
        // Escalating below −0.1: b goes to small (right), c from small to large (right): all right, 1 of 4 on large.
        let best = try! XCTUnwrap(a.target.mostAccurate)
        XCTAssertEqual(best.accuracy, 1)
        XCTAssertEqual(best.largeShare, 0.25)
        XCTAssertEqual(best.totalCost, 1)
        XCTAssertEqual(best.latencyP50, 1.001, accuracy: 1e-12, "b and d: the skipped or unsure specialist's 1 ms, then small's 1 s")
        // Curve (0, .5) → (.25, 1) → (1, .75): AUC .1875 + .65625 = .84375; APGR from the floor (.84375 − .5) / (.75 − .5) = 1.375
        // (from "always special", .25, it would be 1.1875: the forced escalations would count as recovered gap).
        let mean = a.routers.first { $0.router == "confidence: mean token log-prob" }!
        XCTAssertEqual(mean.auc, 0.84375, accuracy: 1e-12)
        XCTAssertEqual(mean.apgr!, 1.375, accuracy: 1e-12)
        XCTAssertEqual(mean.cpt50!, 0.0625, accuracy: 1e-12, "half the gap (.625) a quarter of the way from (0, .5) to (.25, 1)")
    }

    func testCompactPromptsInTheWorkloads() throws {
        let w = try Workload.parse(#"{"id": "a", "prompt": "1 + 2 =", "compact_prompt": "1+2=", "answer": "3"}"#, name: "w")
        XCTAssertEqual(w.items[0].compactPrompt, "1+2=")
        func error(_ text: String) -> String {
            do { _ = try Workload.parse(text, name: "w.jsonl"); return "no error" } catch { return String(describing: error) }
        }
        XCTAssertEqual(error(#"{"prompt": "p", "compact_prompt": "", "answer": "a"}"#), "w.jsonl, line 1: \"compact_prompt\" is empty")
        XCTAssertEqual(error(#"{"prompt": "p", "compact_prompt": 3, "answer": "a"}"#), "w.jsonl, line 1: \"compact_prompt\" must be a string")
        // A compact prompt is part of the answer's cache key; an item without one keeps its old key.
        var item = WorkloadItem(id: "a", task: "t", prompt: "1 + 2 =", answers: ["3"], scoring: .exact)
        let plain = AnswerCache.key(item)
        item.compactPrompt = "1+2="
        XCTAssertNotEqual(AnswerCache.key(item), plain)

        // Every arithmetic item of the shipped workloads carries its last line without spaces.
        for name in ["arithmetic", "mixed"] {
            let items = try Workload.load(Self.root.appendingPathComponent("workloads/\(name).jsonl")).items.filter { $0.task == "arithmetic" }
            XCTAssertEqual(items.count, 60, name)
            for i in items {
                let last = String(i.prompt.split(separator: "\n").last ?? "")
                XCTAssertEqual(i.compactPrompt, last.replacingOccurrences(of: " ", with: ""), i.id)
            }
        }
    }
}
