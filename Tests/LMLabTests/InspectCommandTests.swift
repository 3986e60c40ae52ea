import Foundation
import XCTest
import LMEngine
import LMLab

/// The "look inside" commands (info, layers, tensor, next, attention, lens) on the
/// real SmolLM2 and Gemma-3 files, through the same entry the REPL uses.
final class InspectCommandTests: XCTestCase {
    static let root = LabPaths.packageRoot
    static var smollm2: URL { root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf") }
    static var gemma3: URL { root.appendingPathComponent("models/gemma-3-270m-q4_k_m.gguf") }

    /// A session with the model loaded (small context: these tests use short prompts).
    func loaded(_ url: URL) throws -> Session {
        _ = try LabPaths.model(url.lastPathComponent)
        let s = Session(console: .capturing(), interrupt: Interrupt(), home: FileManager.default.temporaryDirectory)
        XCTAssertTrue(s.run("load \(url.path) --context 128"), s.console.capturedErrors)
        s.console.reset()
        return s
    }

    func json(_ s: Session) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
    }

    func assertContains(_ out: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        for e in expected { XCTAssertTrue(out.contains(e), "missing '\(e)' in\n\(out)", file: file, line: line) }
    }

    // MARK: info

    func testInfoBudgetOnSmolLM2() throws {
        let s = try loaded(Self.smollm2)
        XCTAssertTrue(s.run("info"), s.console.capturedErrors)
        assertContains(s.console.captured, [
            "134,515,008", "134.5M", "embeddings           28,311,552  28.3M", "tied to embeddings",
            "Q4_1             210  106,168,320", "Q8_0               1   28,311,552",
            "45.0 KiB (f32 keys + values: 30 layers × 2 × 192 × 4 bytes)",
        ])
        s.console.reset()
        XCTAssertTrue(s.run("info --json"))
        let j = try json(s)
        XCTAssertEqual(j["parameters"] as? Int, 134_515_008)
        XCTAssertEqual(j["kv_cache_bytes_per_token"] as? Int, 30 * 2 * 192 * 4)
        // 30 layers of q,k,v,o,gate,up,down plus the tied 49,152 × 576 head, 2 FLOPs per multiply-add.
        let perLayer = 576 * 576 * 2 + 192 * 576 * 2 + 1536 * 576 * 3
        XCTAssertEqual(j["flops_per_token"] as? Int, 2 * (30 * perLayer + 49_152 * 576))
        let parts = j["components"] as! [[String: Any]]
        let sum = parts.reduce(0) { $0 + ($1["parameters"] as! Int) }
        XCTAssertEqual(sum, 134_515_008, "the components add up to the total")
        XCTAssertFalse(s.run("info extra"))
    }

    func testInfoBudgetOnGemma() throws {
        let s = try loaded(Self.gemma3)
        XCTAssertTrue(s.run("info"), s.console.capturedErrors)
        assertContains(s.console.captured, ["167,772,160", "268,098,176", "62.6%", "Q6_K", "Q4_K",
                                            "18 layers × 2 × 256 × 4 bytes"])
    }

    // MARK: layers

    func testLayersOnBothModels() throws {
        let s = try loaded(Self.smollm2)
        XCTAssertTrue(s.run("layers"))
        let out = s.console.captured
        XCTAssertEqual(out.components(separatedBy: "  global  ").count - 1, 30, out)
        assertContains(out, ["   29  global      3,540,096", "Q4_1 ×7, F32 ×2"])

        let g = try loaded(Self.gemma3)
        XCTAssertTrue(g.run("layers"))
        let lines = g.console.captured.split(separator: "\n")
        let rows = lines.filter { $0.contains("5,573,632") }
        XCTAssertEqual(rows.count, 18)
        for (l, row) in rows.enumerated() {
            let kind = l % 6 == 5 ? "global " : "local (window 512)"
            XCTAssertTrue(row.contains(kind), "layer \(l): \(row)")
        }
    }

    // MARK: tensor

    func testTensorStatisticsAndHistogram() throws {
        let s = try loaded(Self.smollm2)
        XCTAssertTrue(s.run("tensor blk.0.attn_k.weight --json"), s.console.capturedErrors)
        let j = try json(s)
        XCTAssertEqual(j["shape"] as? [Int], [192, 576])
        XCTAssertEqual(j["type"] as? String, "Q4_1")
        XCTAssertEqual(j["elements"] as? Int, 192 * 576)
        let histogram = j["histogram"] as! [Int]
        XCTAssertEqual(histogram.count, 20)
        XCTAssertEqual(histogram.reduce(0, +), 192 * 576, "every value lands in one bucket")
        XCTAssertLessThanOrEqual(j["min"] as! Double, j["mean"] as! Double)
        XCTAssertLessThanOrEqual(j["mean"] as! Double, j["max"] as! Double)

        s.console.reset()
        XCTAssertTrue(s.run("tensor output_norm.weight --bins 7"))
        assertContains(s.console.captured, ["shape        576", "type         F32", "histogram", "first values:"])
        // The histogram's counts, printed at the end of each bar line, add up to the elements.
        let counts = s.console.captured.split(separator: "\n").filter { $0.contains(" … ") }
            .compactMap { Int($0.split(separator: " ").last!.replacingOccurrences(of: ",", with: "")) }
        XCTAssertEqual(counts.count, 7)
        XCTAssertEqual(counts.reduce(0, +), 576)

        s.console.reset()
        XCTAssertTrue(s.run("tensor token_embd.weight row 7042 --json"))
        XCTAssertEqual((try json(s)["values"] as! [Double]).count, 576)
    }

    func testTensorBadInputs() throws {
        let s = try loaded(Self.smollm2)
        XCTAssertFalse(s.run("tensor blk.0.attn_q.weigth"))
        XCTAssertFalse(s.run("tensor blk.0.attn_q.weight row 576"))
        XCTAssertFalse(s.run("tensor blk.0.attn_q.weight row -1"))
        XCTAssertFalse(s.run("tensor"))
        XCTAssertEqual(s.console.capturedErrors.split(separator: "\n"), [
            "error: no tensor named 'blk.0.attn_q.weigth' — did you mean 'blk.0.attn_q.weight'?",
            "error: row 576 is out of range: blk.0.attn_q.weight has rows 0…575",
            "error: row -1 is out of range: blk.0.attn_q.weight has rows 0…575",
            "error: tensor needs a name, e.g. tensor blk.0.attn_q.weight (Tab completes names)",
        ])
        let names = s.registry.completions(line: "tensor blk.1.ffn_", session: s)
        XCTAssertEqual(names.sorted(), ["blk.1.ffn_down.weight", "blk.1.ffn_gate.weight", "blk.1.ffn_norm.weight", "blk.1.ffn_up.weight"])
        XCTAssertEqual(s.registry.completions(line: "tensor output_norm.weight r", session: s), ["row"])
    }

    // MARK: next

    func testNextTokenDistribution() throws {
        let s = try loaded(Self.smollm2)
        // K = the whole vocabulary, so the probabilities must add up to 1.
        XCTAssertTrue(s.run("next \"The capital of France is\" 49152 --json"), s.console.capturedErrors)
        let j = try json(s)
        let top = j["top"] as! [[String: Any]]
        XCTAssertEqual(top.count, 49_152)
        XCTAssertEqual(top[0]["id"] as? Int, 7042)
        XCTAssertEqual(top[0]["piece"] as? String, " Paris")
        let sum = top.reduce(0.0) { $0 + ($1["probability"] as! Double) }
        XCTAssertEqual(sum, 1, accuracy: 1e-4)
        let entropy = j["entropy_bits"] as! Double
        XCTAssertGreaterThan(entropy, 0)
        XCTAssertLessThan(entropy, log2(49_152.0))

        // A higher temperature flattens the distribution; 0 puts everything on the top token.
        s.console.reset()
        XCTAssertTrue(s.run("next The capital of France is 3 --temp 2 --json"))
        let hot = try json(s)
        XCTAssertGreaterThan(hot["entropy_bits"] as! Double, entropy)
        XCTAssertEqual((hot["top"] as! [[String: Any]]).count, 3)
        s.console.reset()
        XCTAssertTrue(s.run("next The capital of France is --temp 0 --json"))
        let greedy = try json(s)
        XCTAssertEqual(greedy["entropy_bits"] as? Double, 0)
        XCTAssertEqual((greedy["top"] as! [[String: Any]])[0]["probability"] as? Double, 1)

        s.console.reset()
        XCTAssertTrue(s.run("next The capital of France is"))
        XCTAssertTrue(s.console.captured.contains("\"·Paris\" #7042"), s.console.captured)
        XCTAssertTrue(s.console.captured.contains("entropy "), s.console.captured)

        s.console.reset()
        XCTAssertFalse(s.run("next"))
        XCTAssertFalse(s.run("next \"\""))
        XCTAssertFalse(s.run("next hello 0"))
        XCTAssertFalse(s.run("next hello --temp -1"))
        XCTAssertEqual(s.console.capturedErrors.split(separator: "\n").count, 4)
        XCTAssertTrue(s.console.capturedErrors.hasPrefix("error: next needs a text"))
    }

    // MARK: attention

    /// Every row is a softmax over the keys the query may see: it sums to 1 and is 0 in the future.
    func assertCausalRows(_ weights: [[Double]], file: StaticString = #filePath, line: UInt = #line) {
        for (q, row) in weights.enumerated() {
            XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-4, "row \(q)", file: file, line: line)
            for k in (q + 1)..<max(q + 1, row.count) { XCTAssertEqual(row[k], 0, "row \(q) key \(k)", file: file, line: line) }
        }
    }

    func testAttentionRowsAreCausalSoftmaxes() throws {
        let s = try loaded(Self.smollm2)
        XCTAssertTrue(s.run("attention \"The cat sat on the mat because it was tired\" 5 2 --json"), s.console.capturedErrors)
        var j = try json(s)
        XCTAssertEqual((j["tokens"] as! [String]).count, 10)
        XCTAssertEqual(j["layer"] as? Int, 5)
        XCTAssertEqual(j["head"] as? Int, 2)
        assertCausalRows(j["weights"] as! [[Double]])

        // Averaged over heads, and a prompt longer than one 64-token batch.
        let long = Array(repeating: "one two three", count: 30).joined(separator: " ")
        s.console.reset()
        XCTAssertTrue(s.run("attention \"\(long)\" 0 --json"), s.console.capturedErrors)
        j = try json(s)
        XCTAssertNil(j["head"] as? Int)
        let weights = j["weights"] as! [[Double]]
        XCTAssertGreaterThan(weights.count, 64)
        assertCausalRows(weights)

        s.console.reset()
        XCTAssertTrue(s.run("attention The cat sat on the mat"))
        XCTAssertTrue(s.console.captured.contains("layer 29 (global), mean of 9 heads"), s.console.captured)
        XCTAssertTrue(s.console.captured.contains("  5 ·mat"), s.console.captured)

        s.console.reset()
        XCTAssertTrue(s.run("attention The cat sat on the mat --summary --json"))
        j = try json(s)
        let best = j["most_attended"] as! [[Int]]
        XCTAssertEqual(best.count, 30)
        XCTAssertEqual(best[0].count, 9)
        XCTAssertGreaterThan(best.flatMap { $0 }.filter { $0 == 0 }.count, 135, "most heads sink into the first token")

        s.console.reset()
        XCTAssertFalse(s.run("attention The cat 30"))
        XCTAssertFalse(s.run("attention The cat 3 9"))
        XCTAssertFalse(s.run("attention"))
        XCTAssertEqual(s.console.capturedErrors.split(separator: "\n"), [
            "error: layer 30 is out of range: this model has layers 0…29",
            "error: head 9 is out of range: this model has heads 0…8",
            "error: attention needs a text, e.g. attention The cat sat on the mat 3",
        ])
    }

    func testAttentionOnGemmaLocalLayer() throws {
        let s = try loaded(Self.gemma3)
        XCTAssertTrue(s.run("attention \"The cat sat on the mat\" 0 3 --json"), s.console.capturedErrors)
        assertCausalRows(try json(s)["weights"] as! [[Double]])
        s.console.reset()
        XCTAssertTrue(s.run("attention \"The cat sat on the mat\" 0"))
        XCTAssertTrue(s.console.captured.contains("layer 0 (local (window 512)), mean of 4 heads"), s.console.captured)
        XCTAssertFalse(s.run("attention hi 0 4"))
        XCTAssertEqual(s.console.capturedErrors, "error: head 4 is out of range: this model has heads 0…3\n")
    }

    // MARK: lens

    func testLensLastLayerIsTheModelsOwnPrediction() throws {
        for url in [Self.smollm2, Self.gemma3] {
            let s = try loaded(url)
            XCTAssertTrue(s.run("lens The capital of France is --json"), s.console.capturedErrors)
            let lens = try json(s)
            let layers = lens["layers"] as! [[String: Any]]
            XCTAssertEqual(layers.count, s.model!.model.config.layers)
            s.console.reset()
            XCTAssertTrue(s.run("next The capital of France is 1 --json"))
            let top = (try json(s)["top"] as! [[String: Any]])[0]
            let last = layers.last!
            XCTAssertEqual(last["id"] as? Int, top["id"] as? Int, url.lastPathComponent)
            XCTAssertEqual(last["probability"] as! Double, top["probability"] as! Double, accuracy: 1e-5)
            XCTAssertEqual(lens["model_id"] as? Int, top["id"] as? Int)
            if url == Self.smollm2 { XCTAssertEqual(last["id"] as? Int, 7042) }
        }
        let s = try loaded(Self.smollm2)
        XCTAssertTrue(s.run("lens The capital of France is"))
        XCTAssertTrue(s.console.captured.contains("   29  \"·Paris\"   0.780"), s.console.captured)
        XCTAssertFalse(s.run("lens"))
        XCTAssertEqual(s.console.capturedErrors, "error: lens needs a text, e.g. lens The capital of France is\n")
    }

    // MARK: gen --probs

    func testGenProbsMarksEachToken() throws {
        let s = try loaded(Self.smollm2)
        XCTAssertTrue(s.run("gen The capital of France is --temp 0 --max 3 --probs"), s.console.capturedErrors)
        // The last two figures move in the second decimal with the decode kernel's summation order.
        XCTAssertTrue(s.console.captured.hasPrefix(" Paris(p=0.78).(p=0.6"), s.console.captured)
        XCTAssertTrue(s.console.captured.contains(")↵(p=0."), s.console.captured)
        s.console.reset()
        XCTAssertTrue(s.run("gen The capital of France is --temp 0 --max 3 --probs --json"))
        let probabilities = try json(s)["probabilities"] as! [Double]
        XCTAssertEqual(probabilities.count, 3)
        XCTAssertEqual(probabilities[0], 0.780, accuracy: 1e-3, "the same figure next shows for ' Paris'")
        s.console.reset()
        XCTAssertTrue(s.run("gen The capital of France is --temp 0 --max 3 --json"))
        XCTAssertNil(try json(s)["probabilities"], "only with --probs")
    }
}
