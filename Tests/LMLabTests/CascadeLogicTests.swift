import Foundation
import XCTest
import LMLab

/// The cascade's pure parts on hand-computed examples: RouteLLM's APGR and
/// CPT, quantiles and confidence scores, each router's decisions, the cost
/// arithmetic, the simulator, the learned router, and the JSONL errors.
final class CascadeLogicTests: XCTestCase {
    // MARK: helpers

    static func answer(_ text: String, logProbabilities: [Double] = [-0.1], margins: [Double] = [0.5], entropies: [Double] = [0.5],
                       input: Int = 10, output: Int = 1, seconds: Double = 0.1) -> TierAnswer {
        TierAnswer(text: text, logProbabilities: logProbabilities, margins: margins, entropies: entropies,
                   inputTokens: input, outputTokens: output, seconds: seconds)
    }

    static func item(_ id: String, task: String = "general", prompt: String = "p", gold: String = "a") -> WorkloadItem {
        WorkloadItem(id: id, task: task, prompt: prompt, answers: [gold], scoring: .exact)
    }

    /// A record whose tiers are right or wrong as given, with cost c_i and latency l_i per tier.
    static func record(_ id: String, correct: [Bool], confidence: Double = -0.1, task: String = "general", prompt: String = "p",
                       costs: [Double]? = nil, latencies: [Double]? = nil) -> ItemRecord {
        ItemRecord(item: item(id, task: task, prompt: prompt), answers: correct.map { _ in answer("x", logProbabilities: [confidence]) },
                   correct: correct, costs: costs ?? correct.indices.map { Double($0) }, latencies: latencies ?? correct.map { _ in 1 })
    }

    // MARK: RouteLLM figures

    func testAPGRAndCPTByHand() {
        // (0, .5) → (.5, .7) → (1, .8): area = .5·(.5+.7)/2 + .5·(.7+.8)/2 = .3 + .375 = .675
        let curve: [(x: Double, y: Double)] = [(1, 0.8), (0, 0.5), (0.5, 0.7)]   // any order
        XCTAssertEqual(RouterMetrics.area(curve), 0.675, accuracy: 1e-12)
        // APGR = (.675 − .5) / (.8 − .5) = .58333…
        XCTAssertEqual(RouterMetrics.apgr(curve, weak: 0.5, strong: 0.8)!, 0.175 / 0.3, accuracy: 1e-12)
        // 50%: target .65 on the first segment: x = .5 · (.65 − .5)/(.7 − .5) = .375
        XCTAssertEqual(RouterMetrics.cpt(curve, weak: 0.5, strong: 0.8, fraction: 0.5)!, 0.375, accuracy: 1e-12)
        // 80%: target .74 on the second: x = .5 + .5 · (.74 − .7)/(.8 − .7) = .7
        XCTAssertEqual(RouterMetrics.cpt(curve, weak: 0.5, strong: 0.8, fraction: 0.8)!, 0.7, accuracy: 1e-12)
        XCTAssertEqual(RouterMetrics.pgr(0.65, weak: 0.5, strong: 0.8)!, 0.5, accuracy: 1e-12)
        // A curve from x = .5 (half the queries must reach the last tier): mean accuracy .375 / .5 = .75, not the area .375.
        let late: [(x: Double, y: Double)] = [(0.5, 0.7), (1, 0.8)]
        XCTAssertEqual(RouterMetrics.meanAccuracy(late), 0.75, accuracy: 1e-12)
        XCTAssertEqual(RouterMetrics.meanAccuracy(curve), 0.675, accuracy: 1e-12, "over [0, 1]: the area")
        XCTAssertEqual(RouterMetrics.apgr(late, weak: 0.7, strong: 0.8)!, 0.5, accuracy: 1e-12)

        // The random router's diagonal recovers half the gap on average.
        XCTAssertEqual(RouterMetrics.apgr([(0, 0.4), (1, 0.9)], weak: 0.4, strong: 0.9)!, 0.5, accuracy: 1e-12)
        // No gap: undefined; a curve that never gets there: nil.
        XCTAssertNil(RouterMetrics.apgr(curve, weak: 0.6, strong: 0.6))
        XCTAssertNil(RouterMetrics.apgr(curve, weak: 0.8, strong: 0.5), "the strong model is worse: no gap")
        XCTAssertNil(RouterMetrics.cpt([(0, 0.5), (1, 0.6)], weak: 0.5, strong: 0.8, fraction: 0.5))
        XCTAssertNil(RouterMetrics.cpt(curve, weak: 0.8, strong: 0.5, fraction: 0.5), "the large model is worse")
        // Already there with no calls.
        XCTAssertEqual(RouterMetrics.cpt([(0, 0.9), (1, 0.8)], weak: 0.5, strong: 0.8, fraction: 0.5), 0)
    }

    // MARK: confidence scores

    func testQuantilesAndConfidenceScores() {
        XCTAssertEqual(Quantile.of([4, 1, 3, 2], 0.1)!, 1.3, accuracy: 1e-12)   // position .3 between 1 and 2
        XCTAssertEqual(Quantile.of([4, 1, 3, 2], 0.5)!, 2.5, accuracy: 1e-12)
        XCTAssertEqual(Quantile.of([7], 0.9), 7)
        XCTAssertNil(Quantile.of([], 0.5))

        let a = Self.answer("x", logProbabilities: [-0.1, -2.0, -0.5], margins: [0.9, 0.2, 0.5], entropies: [0.3, 1.5, 0.6])
        XCTAssertEqual(ConfidenceScore.mean.value(a), -2.6 / 3, accuracy: 1e-12)
        XCTAssertEqual(ConfidenceScore.min.value(a), -2.0)
        XCTAssertEqual(ConfidenceScore.q10.value(a), -1.7, accuracy: 1e-12)   // sorted −2, −.5, −.1; position .2
        XCTAssertEqual(ConfidenceScore.margin.value(a), 0.2)
        XCTAssertEqual(ConfidenceScore.entropy.value(a), -0.8, accuracy: 1e-12)
    }

    func testStepAndChoiceFiguresByHand() {
        // logits (0, ln 3): p = (.25, .75)
        let step = [Float(0), Float(log(3.0))].withUnsafeBufferPointer { StepFigures($0) }
        XCTAssertEqual(step.top, 1)
        XCTAssertEqual(step.topLogProbability, log(0.75), accuracy: 1e-6)
        XCTAssertEqual(step.margin, 0.5, accuracy: 1e-6)
        XCTAssertEqual(step.entropy, -(0.25 * log(0.25) + 0.75 * log(0.75)), accuracy: 1e-6)

        let choice = ChoiceFigures(logLikelihoods: [log(0.06), log(0.03), log(0.01)])   // normalised: .6 .3 .1
        XCTAssertEqual(choice.best, 0)
        XCTAssertEqual(choice.probabilities[1], 0.3, accuracy: 1e-12)
        XCTAssertEqual(choice.margin, 0.3, accuracy: 1e-12)
        XCTAssertEqual(choice.entropy, -(0.6 * log(0.6) + 0.3 * log(0.3) + 0.1 * log(0.1)), accuracy: 1e-12)
        XCTAssertEqual(ChoiceFigures(logLikelihoods: [-1, -1]).best, 0, "ties go to the first choice")
    }

    // MARK: routers

    func testEachRoutersDecisions() {
        let unsure = Self.record("a", correct: [false, true], confidence: -0.9)
        let sure = Self.record("b", correct: [true, true], confidence: -0.2)
        let confidence = ConfidenceRouter(score: .mean, threshold: -0.5)
        XCTAssertTrue(confidence.escalates(unsure, from: 0))
        XCTAssertFalse(confidence.escalates(sure, from: 0))
        XCTAssertFalse(ConfidenceRouter(score: .mean, threshold: -0.9).escalates(unsure, from: 0), "equal to the threshold keeps")

        let rule = RuleRouter(tasks: ["factual"], longerThan: 10, keywords: ["Explain"])
        XCTAssertTrue(rule.escalates(Self.record("c", correct: [true, true], task: "factual"), from: 0))
        XCTAssertTrue(rule.escalates(Self.record("d", correct: [true, true], prompt: "eleven char"), from: 0))
        XCTAssertFalse(rule.escalates(Self.record("e", correct: [true, true], prompt: "ten chars!"), from: 0))
        XCTAssertFalse(rule.escalates(Self.record("f", correct: [true, true], prompt: "why? expl"), from: 0))
        XCTAssertTrue(rule.escalates(Self.record("g", correct: [true, true], prompt: "explain"), from: 0), "keywords ignore case")
        XCTAssertEqual(rule.description, "task in {factual} or prompt > 10 chars or keyword in {explain}")

        let oracle = OracleRouter()
        XCTAssertTrue(oracle.escalates(Self.record("h", correct: [false, true]), from: 0))
        XCTAssertFalse(oracle.escalates(Self.record("i", correct: [true, true]), from: 0))
        XCTAssertFalse(oracle.escalates(Self.record("j", correct: [false, false]), from: 0), "no one is right: stay cheap")
        let three = Self.record("k", correct: [false, false, true])
        XCTAssertTrue(oracle.escalates(three, from: 0))
        XCTAssertTrue(oracle.escalates(three, from: 1))
        XCTAssertEqual(CascadeSimulator.path(three, router: oracle).finalTier, 2)

        let records = (0..<1000).map { Self.record("item-\($0)", correct: [true, true]) }
        XCTAssertFalse(records.contains { RandomRouter(probability: 0).escalates($0, from: 0) })
        XCTAssertTrue(records.allSatisfy { RandomRouter(probability: 1).escalates($0, from: 0) })
        let half = records.filter { RandomRouter(probability: 0.5).escalates($0, from: 0) }.count
        XCTAssertTrue((450...550).contains(half), "\(half) of 1000")
        XCTAssertEqual(half, records.filter { RandomRouter(probability: 0.5).escalates($0, from: 0) }.count, "repeatable")
        XCTAssertNotEqual(half, records.filter { RandomRouter(probability: 0.5, seed: 7).escalates($0, from: 0) }.count)
    }

    func testLearnedRouterLearnsWhenTheSmallModelIsRight() {
        // The small tier is right exactly when its confidence is high; the regression must find that.
        let training: [ItemRecord] = (0..<40).map { (i: Int) -> ItemRecord in
            let right = i % 2 == 0
            let confidence: Double = right ? -0.1 - Double(i) * 0.001 : -2 - Double(i) * 0.01
            return Self.record("t\(i)", correct: [right, true], confidence: confidence)
        }
        let model = LearnedRouterModel(training: training, tier: 0)
        let sure = Self.record("s", correct: [true, true], confidence: -0.15)
        let unsure = Self.record("u", correct: [true, true], confidence: -2.5)
        XCTAssertGreaterThan(model.probabilityCorrect(sure, tier: 0), 0.8)
        XCTAssertLessThan(model.probabilityCorrect(unsure, tier: 0), 0.2)
        let router = LearnedRouter(models: [model], threshold: 0.5)
        XCTAssertFalse(router.escalates(sure, from: 0))
        XCTAssertTrue(router.escalates(unsure, from: 0))

        let fit = LogisticRegression(x: [[-2], [-1], [1], [2]], y: [false, false, true, true])
        XCTAssertLessThan(fit.probability([-3]), fit.probability([0]))
        XCTAssertLessThan(fit.probability([0]), fit.probability([3]))
        XCTAssertEqual(fit.probability([0]), 0.5, accuracy: 1e-9, "symmetric data: the boundary at 0")
    }

    // MARK: cost arithmetic and the simulator

    func testCostsAndLatencies() {
        let cloud = CostProfile(place: .cloud, rttMilliseconds: 350, priceInPerMillion: 500, priceOutPerMillion: 1500)
        XCTAssertEqual(cloud.cost(inputTokens: 1000, outputTokens: 2000), 0.5 + 3.0, accuracy: 1e-12)
        XCTAssertEqual(cloud.cost(inputTokens: 120, outputTokens: 3), 0.06 + 0.0045, accuracy: 1e-12)
        XCTAssertEqual(cloud.latency(computeSeconds: 1.0), 1.35, accuracy: 1e-12)
        XCTAssertEqual(CostProfile.device.cost(inputTokens: 5000, outputTokens: 5000), 0)
        XCTAssertEqual(CostProfile.device.latency(computeSeconds: 0.2), 0.2)
        XCTAssertEqual(cloud.provenance, "simulated")
        XCTAssertEqual(CostProfile.device.provenance, "measured")

        let tiers = [Tier(name: "small", model: "small", profile: .device), Tier(name: "large", model: "large", profile: cloud)]
        // small: 100 in, 2 out, 0.2 s; large: 120 in, 3 out, 1.0 s compute
        func record(_ id: String, smallRight: Bool, confidence: Double) -> ItemRecord {
            ItemRecord(item: Self.item(id, gold: "yes"),
                       answers: [Self.answer(smallRight ? "yes" : "no", logProbabilities: [confidence], input: 100, output: 2, seconds: 0.2),
                                 Self.answer("yes", input: 120, output: 3, seconds: 1.0)],
                       tiers: tiers)
        }
        let r = record("a", smallRight: false, confidence: -3)
        XCTAssertEqual(r.correct, [false, true])
        XCTAssertEqual(r.costs[0], 0)
        XCTAssertEqual(r.costs[1], 0.0645, accuracy: 1e-12)
        XCTAssertEqual(r.latencies[1], 1.35, accuracy: 1e-12)
        let path = CascadeSimulator.path(r, router: ConfidenceRouter(score: .mean, threshold: -1))
        XCTAssertEqual(path, CascadeSimulator.Path(finalTier: 1, correct: true, cost: 0.0645, latency: 1.55))

        // Four queries, two escalated: accuracy 1, half to the large tier, cost 2 × .0645,
        // latencies .2 .2 1.55 1.55 → p50 .875, p95 at position 2.85 → 1.55.
        let records = [record("a", smallRight: false, confidence: -3), record("b", smallRight: true, confidence: -0.1),
                       record("c", smallRight: false, confidence: -2), record("d", smallRight: true, confidence: -0.2)]
        let point = CascadeSimulator.evaluate(records, router: ConfidenceRouter(score: .mean, threshold: -1), label: "t")
        XCTAssertEqual(point.accuracy, 1)
        XCTAssertEqual(point.largeShare, 0.5)
        XCTAssertEqual(point.answeredBy, [0.5, 0.5])
        XCTAssertEqual(point.totalCost, 0.129, accuracy: 1e-12)
        XCTAssertEqual(point.costPerQuery, 0.03225, accuracy: 1e-12)
        XCTAssertEqual(point.latencyP50, 0.875, accuracy: 1e-12)
        XCTAssertEqual(point.latencyP95, 1.55, accuracy: 1e-12)
        let alwaysLarge = CascadeSimulator.single(records, tier: 1, label: "always large")
        XCTAssertEqual(alwaysLarge.totalCost, 4 * 0.0645, accuracy: 1e-12)
        XCTAssertEqual(alwaysLarge.latencyP50, 1.35, accuracy: 1e-12, "called directly, not after the small one")
    }

    func testAnalysisFindsTheTargetThreshold() {
        // Large: always right, $1 a call. Small: right on 7 of 10, and sure (−0.1) exactly then.
        let records = (0..<10).map { i in
            Self.record("q\(i)", correct: [i < 7, true], confidence: i < 7 ? -0.1 : -3, costs: [0, 1], latencies: [0.1, 1])
        }
        let tiers = [Tier(name: "small", model: "s", profile: .device), Tier(name: "large", model: "l", profile: .cloud)]
        let a = CascadeAnalysis(records: records, tiers: tiers, score: .mean, rule: RuleRouter())
        XCTAssertEqual(a.singles.map(\.accuracy), [0.7, 1.0])
        XCTAssertEqual(a.singles.map(\.totalCost), [0, 10])
        let point = try! XCTUnwrap(a.target.point)
        XCTAssertEqual(a.target.bestTier, "large")
        XCTAssertEqual(point.accuracy, 1.0)
        XCTAssertEqual(point.largeShare, 0.3, accuracy: 1e-12)
        XCTAssertEqual(point.totalCost, 3)
        // The curve (0, .7) → (.3, 1) → (1, 1): area .255 + .7 = .955, APGR (.955 − .7)/.3 = .85; CPT(50%) = .15.
        let mean = a.routers.first { $0.router == "confidence: mean token log-prob" }!
        XCTAssertEqual(mean.auc, 0.955, accuracy: 1e-9)
        XCTAssertEqual(mean.apgr!, 0.85, accuracy: 1e-9)
        XCTAssertEqual(mean.cpt50!, 0.15, accuracy: 1e-9)
        XCTAssertEqual(a.oracle.accuracy, 1)
        XCTAssertEqual(a.oracle.largeShare, 0.3, accuracy: 1e-12)
        XCTAssertEqual(a.rule.largeShare, 0, "an empty rule never escalates")
        // Held out: the even items' small-model scores are −0.1 ×4 and −3 (q8); the cheapest threshold meeting the target
        // there is their 5% quantile, −3 + 0.2·2.9 = −2.42, which on the odd items escalates q7 and q9: all right, 2 of 5 calls.
        let held = try! XCTUnwrap(a.heldOutCheck)
        XCTAssertEqual(held.picked, .target)
        XCTAssertEqual(held.threshold, -2.42, accuracy: 1e-9)
        XCTAssertEqual(held.items, 5)
        XCTAssertEqual(held.accuracy, 1)
        XCTAssertEqual(held.largeShare, 0.4, accuracy: 1e-12)
        XCTAssertEqual(held.costShare!, 0.4, accuracy: 1e-12)
        // With a free large tier the target is met by staying on it; the check then tries the most accurate threshold.
        let free = (0..<10).map { i in
            Self.record("q\(i)", correct: [i < 7, true], confidence: i < 7 ? -0.1 : -3, costs: [0, 0], latencies: [0.1, 1])
        }
        let freeCheck = try! XCTUnwrap(CascadeAnalysis(records: free, tiers: tiers, score: .mean, rule: RuleRouter()).heldOutCheck)
        XCTAssertEqual(freeCheck.picked, .mostAccurate)
        XCTAssertEqual(freeCheck.threshold, -2.42, accuracy: 1e-9)
        XCTAssertEqual(freeCheck.accuracy, 1)
        XCTAssertEqual(freeCheck.bestTier, "large")
        XCTAssertNil(freeCheck.costShare, "a free tier has no cost to share")
        XCTAssertEqual(ThresholdSweep.thresholds([-3, -0.1]).first, -.infinity)
        XCTAssertEqual(ThresholdSweep.thresholds([-3, -0.1]).last, .infinity)
    }

    // MARK: workloads

    func testExactAnswerMatching() {
        XCTAssertTrue(AnswerMatch.matches(" Paris.", gold: "Paris"))
        XCTAssertTrue(AnswerMatch.matches("paris is lovely", gold: "Paris"))
        XCTAssertTrue(AnswerMatch.matches("Buenos Aires.", gold: "Buenos Aires"))
        XCTAssertTrue(AnswerMatch.matches("48\nQ: 2 + 2", gold: "48"))
        XCTAssertFalse(AnswerMatch.matches("12", gold: "1"))
        XCTAssertFalse(AnswerMatch.matches("304", gold: "-304"), "the sign counts")
        XCTAssertTrue(AnswerMatch.matches("-304.", gold: "-304"))
        XCTAssertFalse(AnswerMatch.matches("-304", gold: "304"))
        XCTAssertFalse(AnswerMatch.matches("the Sun", gold: "Sun"))
        XCTAssertFalse(AnswerMatch.matches("\nParis", gold: "Paris"), "only the first line counts")
        XCTAssertFalse(AnswerMatch.matches("", gold: "Paris"))
        let item = WorkloadItem(id: "x", task: "t", prompt: "p", answers: ["seven", "7"], scoring: .exact)
        XCTAssertTrue(item.isCorrect("7."))
        XCTAssertFalse(item.isCorrect("six"))
        let choice = WorkloadItem(id: "y", task: "t", prompt: "p", answers: [" no"], choices: [" yes", " no"], scoring: .choice)
        XCTAssertTrue(choice.isCorrect(" no"))
        XCTAssertFalse(choice.isCorrect(" yes"))
    }

    func testJSONLParsingAndLineNumberedErrors() throws {
        let good = """
        {"id": "a", "task": "arithmetic", "prompt": "2 + 2 =", "answer": "4", "max_tokens": 4}

        {"prompt": "Sky?", "choices": [" blue", " green"], "answer": " blue"}
        """
        let w = try Workload.parse(good, name: "t")
        XCTAssertEqual(w.items.count, 2)
        XCTAssertEqual(w.items[0], WorkloadItem(id: "a", task: "arithmetic", prompt: "2 + 2 =", answers: ["4"], scoring: .exact, maxTokens: 4, line: 1))
        XCTAssertEqual(w.items[1].id, "line-3")
        XCTAssertEqual(w.items[1].scoring, .choice, "choices imply choice scoring")
        XCTAssertEqual(w.items[1].task, "general")

        func error(_ text: String) -> String {
            do { _ = try Workload.parse(text, name: "w.jsonl"); return "no error" } catch { return String(describing: error) }
        }
        let first = #"{"id": "a", "prompt": "p", "answer": "x"}"#
        XCTAssertEqual(error(first + "\n\n{oops"), "w.jsonl, line 3: not a JSON object")
        XCTAssertEqual(error(first + "\n" + #"{"id": "b", "answer": "x"}"#), "w.jsonl, line 2: missing \"prompt\"")
        XCTAssertEqual(error(#"{"prompt": "p"}"#), "w.jsonl, line 1: missing \"answer\"")
        XCTAssertEqual(error(#"{"prompt": "p", "answer": 4}"#), "w.jsonl, line 1: \"answer\" must be a string or a non-empty list of strings")
        XCTAssertEqual(error(#"{"prompt": "p", "answer": "c", "choices": ["a", "b"]}"#), "w.jsonl, line 1: \"answer\" must be one of the \"choices\"")
        XCTAssertEqual(error(#"{"prompt": "p", "answer": "a", "choices": ["a"]}"#), "w.jsonl, line 1: scoring \"choice\" needs at least two \"choices\"")
        XCTAssertEqual(error(#"{"prompt": "p", "answer": "a", "scoring": "fuzzy"}"#), "w.jsonl, line 1: unknown scoring 'fuzzy' (exact or choice)")
        XCTAssertEqual(error(#"{"prompt": "p", "answer": "a", "max_tokens": 0}"#), "w.jsonl, line 1: \"max_tokens\" must be a whole number from 1 to 256")
        XCTAssertEqual(error(first + "\n" + first), "w.jsonl, line 2: duplicate id 'a' (first on line 1)")
        XCTAssertEqual(error("[1, 2]"), "w.jsonl, line 1: not a JSON object")
        XCTAssertEqual(error("\n\n"), "w.jsonl: no items (one JSON object per line)")

        // From a file, the error names the file; through the command it is one line and the session goes on.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-workload-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = folder.appendingPathComponent("bad.jsonl")
        try (first + "\n" + #"{"id": "b", "prompt": "p"}"# + "\n").write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Workload.load(bad)) { XCTAssertEqual(String(describing: $0), "bad.jsonl, line 2: missing \"answer\"") }
        let s = Session(console: .capturing(), interrupt: Interrupt(), home: folder)
        XCTAssertFalse(s.run("cascade run --workload \(bad.path)"))
        XCTAssertEqual(s.console.capturedErrors, "error: bad.jsonl, line 2: missing \"answer\"\n")
        XCTAssertTrue(s.run("help cascade"))
    }

    func testShippedWorkloadsParse() throws {
        let root = LabPaths.packageRoot
        var tasks: [String: Int] = [:]
        for name in ["arithmetic", "factual", "classification", "instructions", "mixed", "arithmetic-compact"] {
            let w = try Workload.load(root.appendingPathComponent("workloads/\(name).jsonl"))
            XCTAssertGreaterThanOrEqual(w.items.count, 40, name)
            if name == "mixed" { for i in w.items { tasks[i.task, default: 0] += 1 } }
        }
        XCTAssertGreaterThanOrEqual(tasks.values.reduce(0, +), 200)
        XCTAssertEqual(Set(tasks.keys), ["arithmetic", "factual", "classification", "instruction"])
    }

    func testAnswerCacheRoundTrip() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-cache-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let item = Self.item("a", prompt: "2 + 2 =")
        let cache = AnswerCache(folder: folder)
        XCTAssertNil(cache.answer(model: "m|q4", item: item))
        let stored = Self.answer("4", logProbabilities: [-0.25, -1], seconds: 0.5)
        cache.store(stored, model: "m|q4", item: item)
        try cache.save()
        let again = AnswerCache(folder: folder)
        XCTAssertEqual(again.answer(model: "m|q4", item: item), stored)
        XCTAssertNil(again.answer(model: "m|q8", item: item), "another quantization, another answer")
        var changed = item
        changed.prompt = "2 + 3 ="
        XCTAssertNil(again.answer(model: "m|q4", item: changed), "another prompt, another answer")
        XCTAssertEqual(AnswerCache.hash(""), "cbf29ce484222325", "FNV-1a's offset basis")
    }
}
