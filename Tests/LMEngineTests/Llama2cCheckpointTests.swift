import Foundation
import XCTest
import LMEngine

/// llama2.c checkpoints load as the lab's llama model: stories260K (../shared/reference/llama2c)
/// against the golden output of llama2.c's own run.c — prompt ids, every greedy token, the text
/// and the first position's logits. Skips when ../shared is absent.
final class Llama2cCheckpointTests: XCTestCase {
    struct Golden: Decodable {
        struct Prompt: Decodable {
            let prompt: String
            let steps: Int
            let prompt_ids: [Int32]
            let generated_ids: [Int32]
            let text: String
        }
        struct FirstLogits: Decodable { let values: [Float]; let argmax: Int; let argmax_value: Float }
        let prompts: [Prompt]
        let first_logits: FirstLogits
    }

    func files() throws -> (checkpoint: URL, golden: Golden) {
        let checkpoint = try TestPaths.sharedFile("reference/llama2c/stories260K.bin")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: try TestPaths.sharedFile("reference/llama2c/golden-stories260K.json")))
        return (checkpoint, golden)
    }

    func testHeaderAndConversion() throws {
        let (checkpoint, _) = try files()
        let c = try Llama2cCheckpoint.config(of: Data(contentsOf: checkpoint))
        XCTAssertEqual([c.dim, c.hiddenDim, c.layers, c.heads, c.kvHeads, c.vocabulary, c.sequenceLength],
                       [64, 172, 5, 8, 4, 512, 512])
        XCTAssertTrue(c.sharedClassifier)
        XCTAssertTrue(ModelLoader.isLlama2c(checkpoint))
        let model = try ModelLoader.load(url: checkpoint, threads: 1)
        XCTAssertEqual(model.config.architecture, "llama")
        XCTAssertEqual(model.config.headDim, 8)
        XCTAssertEqual(model.config.kvHeads, 4)
        XCTAssertEqual(model.config.vocabulary, 512)
        XCTAssertTrue(model.outputIsTied)
    }

    func testGreedyMatchesRunC() throws {
        let (checkpoint, golden) = try files()
        let model = try ModelLoader.load(url: checkpoint, threads: 2)
        // run.c computes in f32 throughout: so do the activations here (the lab's default
        // rounds them to 8 bits for the matmuls, which moves logit 1 by 6e-4).
        model.compute.activations = .f32
        // Position 0, after BOS: the logits run.c printed.
        let first = try model.logitsAfter([1])
        for (i, expected) in golden.first_logits.values.enumerated() {
            XCTAssertEqual(first[i], expected, accuracy: 1e-4, "logit \(i) after BOS")
        }
        XCTAssertEqual(first.indices.max { first[$0] < first[$1] }, golden.first_logits.argmax)
        XCTAssertEqual(first[golden.first_logits.argmax], golden.first_logits.argmax_value, accuracy: 1e-3)

        for (p, activations) in golden.prompts.flatMap({ p in [(p, ActivationPrecision.f32), (p, .q8)] }) {
            model.compute.activations = activations
            let ids = model.tokenizer.encode(p.prompt, addBOS: true, parseSpecial: false)
            XCTAssertEqual(ids, p.prompt_ids, "prompt ids of '\(p.prompt)'")
            // run.c: -n counts positions, prompt included; greedy argmax for the rest.
            model.reset()
            var generated: [Int32] = []
            var logits = try model.logitsAfter(ids)
            while ids.count + generated.count < p.steps + 1 && generated.count < p.generated_ids.count {
                let next = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
                generated.append(next)
                logits = try model.logitsAfter([next])
            }
            XCTAssertEqual(generated, p.generated_ids, "greedy tokens after '\(p.prompt)', \(activations) activations")
            // run.c's stdout: every piece after BOS, the first one's leading space dropped, then "\n".
            var text = model.tokenizer.decode(Array(ids.dropFirst()) + generated)
            if text.hasPrefix(" ") { text.removeFirst() }
            XCTAssertEqual(text + "\n", p.text, "text after '\(p.prompt)'")
        }
    }

    func testBadCheckpointsSayWhatIsWrong() throws {
        let (checkpoint, _) = try files()
        let data = try Data(contentsOf: checkpoint)
        XCTAssertThrowsError(try Llama2cCheckpoint.config(of: data.prefix(100))) { e in
            XCTAssertEqual("\(e)", "llama2.c checkpoint has 100 bytes but its header needs 1056540 (truncated, or not llama2.c's legacy format)")
        }
        var zeroHeads = data
        zeroHeads.replaceSubrange(12..<16, with: [0, 0, 0, 0])
        XCTAssertThrowsError(try Llama2cCheckpoint.config(of: zeroHeads)) { e in
            XCTAssertEqual("\(e)", "not a llama2.c checkpoint: n_heads is 0")
        }
        // No tokenizer beside it.
        let lonely = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-llama2c-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: lonely, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: lonely) }
        let copy = lonely.appendingPathComponent("model.bin")
        try data.write(to: copy)
        XCTAssertThrowsError(try ModelLoader.load(url: copy)) { e in
            XCTAssertEqual("\(e)", "no llama2.c tokenizer beside the checkpoint (looked for tok<vocab>.bin and tokenizer.bin in \(lonely.path))")
        }
    }
}
