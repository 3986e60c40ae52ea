import Foundation
import XCTest
import LMEngine
import LMLab

/// `cascade tier|run|explain` on SmolLM2 → Gemma-3 over a small slice of a
/// shipped workload (the answer cache makes the second run free).
final class CascadeCommandTests: XCTestCase {
    func session(home: URL) throws -> Session {
        let s = Session(console: .capturing(), interrupt: Interrupt(), home: home)
        XCTAssertTrue(s.run("load \(try MultiModelTests.smollm2.path) as small --context 256"), s.console.capturedErrors)
        XCTAssertTrue(s.run("load \(try MultiModelTests.gemma3.path) as big --context 256"), s.console.capturedErrors)
        s.console.reset()
        return s
    }

    func temporaryHome() throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-cascade-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: home) }
        return home
    }

    static var workloads: URL {
        LabPaths.packageRoot
            .appendingPathComponent("workloads")
    }

    func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    func testTiersDefaultToSizeOrderWithTheLargestInTheCloud() throws {
        let s = try session(home: try temporaryHome())
        XCTAssertTrue(s.run("cascade tier"), s.console.capturedErrors)
        let rows = s.console.captured.split(separator: "\n").map(String.init)
        XCTAssertTrue(rows.contains { $0.hasPrefix("1  small  small  device") }, s.console.captured)
        XCTAssertTrue(rows.contains { $0.hasPrefix("2  big    big    cloud (simulated)  350 ms") }, s.console.captured)
        s.console.reset()
        XCTAssertTrue(s.run("cascade tier --json"))
        let tiers = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [[String: Any]]
        XCTAssertEqual(tiers.map { $0["name"] as! String }, ["small", "big"])
        XCTAssertEqual(tiers.map { ($0["profile"] as! [String: Any])["place"] as! String }, ["device", "cloud"])
        s.console.reset()
        XCTAssertTrue(s.run("cascade tier big rtt_ms=100 price_in=1 price_out=2"), s.console.capturedErrors)
        let big = try XCTUnwrap(s.console.captured.split(separator: "\n").first { $0.hasPrefix("2  big") })
        XCTAssertEqual(Array(big.split(separator: " ").prefix(9)), ["2", "big", "big", "cloud", "(simulated)", "100", "ms", "1", "2"])

        for (line, error) in [
            ("cascade tier big where=moon", "where is device, cloud or api, got 'moon'"),
            ("cascade tier big rtt=5", "unknown tier setting 'rtt' — did you mean 'rtt_ms'?; one of: model, where, rtt_ms, price_in, price_out"),
            ("cascade tier big price_in=-1", "price_in expects a number ≥ 0, got '-1'"),
            ("cascade tier other model=nope", "tier other: no loaded model named 'nope' (loaded: small, big)"),
            ("cascade tier big nonsense", "'nonsense' is not key=value (model, where, rtt_ms, price_in, price_out)"),
            ("cascade fly", "unknown cascade step 'fly'; one of: explain, run, tier"),
            ("cascade explain 1", "no cascade run yet — try 'cascade run'"),
            ("cascade run --workload nosuch", "no workload 'nosuch'"),
            ("cascade run --workload arithmetic --score medium", "unknown score 'medium'; one of: mean, min, q10, margin, entropy"),
            ("cascade run --workload arithmetic --tasks poetry", "no items of task 'poetry' in arithmetic; its tasks: arithmetic"),
            ("cascade run --workload arithmetic --tiers small,huge", "no tier or loaded model named 'huge'; tiers: small, big"),
        ] {
            s.console.reset()
            XCTAssertFalse(s.run(line.replacingOccurrences(of: "--workload arithmetic", with: "--workload \(Self.workloads.path)/arithmetic.jsonl")), line)
            XCTAssertTrue(s.console.capturedErrors.hasPrefix("error: " + error), "\(line): \(s.console.capturedErrors)")
            XCTAssertEqual(s.console.capturedErrors.split(separator: "\n").count, 1, line)
        }
    }

    func testRunExplainAndTheAnswerCache() throws {
        let home = try temporaryHome()
        let s = try session(home: home)
        XCTAssertTrue(s.run("cascade tier big price_in=1000 price_out=2000"))
        let workload = Self.workloads.appendingPathComponent("mixed.jsonl").path
        s.console.reset()
        XCTAssertTrue(s.run("cascade run --workload \(workload) --limit 6 --json"), s.console.capturedErrors)
        let first = try json(s.console.captured)
        XCTAssertEqual(first["items_answered"] as? Int, 6)
        XCTAssertEqual(first["answers_computed"] as? Int, 12)
        XCTAssertEqual(first["answers_cached"] as? Int, 0)
        let items = first["items"] as! [[String: Any]]
        let mixed = try Workload.load(URL(fileURLWithPath: workload)).items
        for (record, item) in zip(items, mixed) {
            XCTAssertEqual(record["id"] as? String, item.id)
            let answers = record["answers"] as! [String]
            XCTAssertEqual(record["correct"] as? [Bool], answers.map { item.isCorrect($0) })
            // The device tier is free; at $1000 in / $2000 out per 1M tokens the cloud tier costs (in·1 + out·2) / 1000 dollars.
            let tokensIn = record["tokens_in"] as! [Int], tokensOut = record["tokens_out"] as! [Int]
            let costs = record["costs"] as! [Double]
            XCTAssertEqual(costs[0], 0)
            XCTAssertEqual(costs[1], Double(tokensIn[1]) / 1000 + Double(tokensOut[1]) * 2 / 1000, accuracy: 1e-12)
            let latencies = record["latencies_s"] as! [Double], compute = record["compute_s"] as! [Double]
            XCTAssertEqual(latencies[0], compute[0], accuracy: 1e-12, "device: measured")
            XCTAssertEqual(latencies[1], compute[1] + 0.35, accuracy: 1e-12, "cloud: measured + 350 ms simulated")
        }

        // An exact item's answer is the first line of what greedy generation writes.
        let exact = try XCTUnwrap(mixed.prefix(6).firstIndex { $0.scoring == .exact })
        let small = try XCTUnwrap(s.models["small"]).model
        let prompt = small.tokenizer.encode(mixed[exact].prompt, addBOS: small.tokenizer.addsBOS, parseSpecial: false)
        var text = ""
        _ = try Generator(model: small).generate(prompt: prompt, maxTokens: mixed[exact].maxTokens, sampler: Sampler(.greedy)) { _, piece in text += piece }
        let firstLine = String(text.split(separator: "\n", omittingEmptySubsequences: false)[0]).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual((items[exact]["answers"] as! [String])[0], firstLine)

        // A second run reads every answer from the cache and reports the same.
        s.console.reset()
        XCTAssertTrue(s.run("cascade run --workload \(workload) --limit 6 --json"), s.console.capturedErrors)
        let second = try json(s.console.captured)
        XCTAssertEqual(second["answers_computed"] as? Int, 0)
        XCTAssertEqual(second["answers_cached"] as? Int, 12)
        XCTAssertEqual((second["items"] as! [[String: Any]]).map { $0["answers"] as! [String] }, items.map { $0["answers"] as! [String] })
        XCTAssertTrue(FileManager.default.fileExists(atPath: home.appendingPathComponent("cascade-cache").path))

        // The short report: baselines, the routers that matter, the verdict — no sweep, no chart.
        s.console.reset()
        XCTAssertTrue(s.run("cascade run --workload \(workload) --limit 6 --score mean"), s.console.capturedErrors)
        let short = s.console.captured
        for expected in ["always small", "always big", "APGR", "CPT(50%)", "confidence: mean token log-prob", "random", "oracle: accuracy", "target: ", "--detail"] {
            XCTAssertTrue(short.contains(expected), "missing '\(expected)' in\n\(short)")
        }
        for absent in ["−∞ (never)", "share of queries sent to the largest tier", "confidence: min top-2 margin"] {
            XCTAssertFalse(short.contains(absent), "'\(absent)' belongs behind --detail:\n\(short)")
        }
        XCTAssertNotNil(s.figures["small_accuracy_pct"])
        XCTAssertEqual(s.figures["oracle_accuracy_pct"].map { $0 >= s.figures["small_accuracy_pct"]! }, true)

        // The text report with --detail: baselines, sweep, routers, chart, verdict.
        s.console.reset()
        XCTAssertTrue(s.run("cascade run --workload \(workload) --limit 6 --score mean --detail"), s.console.capturedErrors)
        let report = s.console.captured
        for expected in ["workload mixed: 6 items · tiers small → big", "answers: 0 computed now, 12 from the cache",
                         "always small", "always big", "−∞ (never)", "+∞ (always)", "APGR", "CPT(50%)", "random",
                         "oracle: accuracy", "rule router (task in {arithmetic, instruction})", "AUC", "share of queries sent to the largest tier", "target: "] {
            XCTAssertTrue(report.contains(expected), "missing '\(expected)' in\n\(report)")
        }

        s.console.reset()
        XCTAssertTrue(s.run("cascade explain 1 --threshold -0.5"), s.console.capturedErrors)
        let explained = s.console.captured
        XCTAssertTrue(explained.hasPrefix("item 1 of 6 · \(mixed[0].id) · \(mixed[0].task)"), explained)
        XCTAssertTrue(explained.contains("tier 1: small (device)"))
        XCTAssertTrue(explained.contains("tier 2: big (cloud)"))
        XCTAssertTrue(explained.contains("path at mean threshold -0.500: small"), explained)
        s.console.reset()
        XCTAssertTrue(s.run("cascade explain 1 --threshold -0.5 --json"), s.console.capturedErrors)
        let path = try json(s.console.captured)
        let steps = path["steps"] as! [[String: Any]]
        XCTAssertEqual(steps.map { $0["answer"] as! String }, items[0]["answers"] as! [String])
        XCTAssertEqual(steps.map { $0["latency_kind"] as! String }, ["measured", "simulated"])
        let smallMean = try XCTUnwrap((items[0]["confidence"] as! [[String: Double]])[0]["mean"])
        XCTAssertEqual(path["final_tier"] as? String, smallMean < -0.5 ? "big" : "small", "escalates exactly when mean < −0.5")
        XCTAssertEqual(steps[0]["escalates"] as? Bool, smallMean < -0.5)
        s.console.reset()
        XCTAssertFalse(s.run("cascade explain 7"))
        XCTAssertEqual(s.console.capturedErrors, "error: N must be between 1 and 6, got 7\n")
    }

    func testCtrlCKeepsThePartialResults() throws {
        let s = try session(home: try temporaryHome())
        let items = Array(try Workload.load(Self.workloads.appendingPathComponent("arithmetic.jsonl")).items.prefix(5))
        let rungs = ["small", "big"].map { name in
            CascadeRunner.Rung(tier: Tier(name: name, model: name, profile: .device), model: s.models[name]!.model, cacheKey: name)
        }
        var answered = 0
        // "Ctrl-C" after the fourth answer: two whole items are kept.
        let result = try CascadeRunner(rungs: rungs, cache: nil).run(items, shouldStop: { answered >= 4 }, progress: { done, _ in answered = done })
        XCTAssertTrue(result.stopped)
        XCTAssertEqual(result.records.map(\.item.id), items.prefix(2).map(\.id))
        XCTAssertEqual(result.computed, 4)
    }
}
