import Foundation
import XCTest
import LMEngine

/// Re-quantizing SmolLM2 in memory lands where llama.cpp's own files of those
/// types do (../shared/reference/llamacpp-figures.md, copied here):
/// Q8_0: PPL 19.720, mean KLD 0.0039; Q4_0: PPL 23.528, mean KLD 0.2561.
final class QuantLabTests: XCTestCase {
    func testQ8_0AndQ4_0AgainstLlamaCppFigures() throws {
        let text = try String(contentsOf: TestPaths.sharedFile("reference/text/alice-ch1-3.txt"), encoding: .utf8)
        let model = try ModelLoader.load(url: try TestPaths.smollm2, contextLength: 512)
        model.compute.activations = .q8   // llama.cpp's figures come from its 8-bit-activation kernels
        let reference = try WeightSet(model: model, type: .f32)

        let q8 = try WeightSet(model: model, type: .q8_0, outputRule: true)
        XCTAssertTrue(q8.changes.allSatisfy { $0.to == .q8_0 })
        let r8 = try KLDivergence.measure(model: model, reference: reference, candidate: q8, text: text)
        print(String(format: "q8_0: PPL %.3f, KLD %.4f, same top %.2f%%", r8.perplexity, r8.meanKLD, r8.sameTop * 100))
        XCTAssertEqual(r8.chunks, 33)
        XCTAssertEqual(r8.perplexity, 19.720, accuracy: 19.720 * 0.01)
        XCTAssertLessThanOrEqual(r8.meanKLD, 0.005)

        let q4 = try WeightSet(model: model, type: .q4_0, outputRule: true)
        XCTAssertEqual(q4.changes.first { $0.name == "token_embd.weight" }?.to, .q8_0, "the output rule: Q6_K falls back to Q8_0 at width 576")
        let r4 = try KLDivergence.measure(model: model, reference: reference, candidate: q4, text: text)
        print(String(format: "q4_0: PPL %.3f, KLD %.4f, same top %.2f%%", r4.perplexity, r4.meanKLD, r4.sameTop * 100))
        XCTAssertEqual(r4.perplexity, 23.528, accuracy: 23.528 * 0.02)
        XCTAssertEqual(r4.meanKLD, 0.2561, accuracy: 0.2561 * 0.15)
        XCTAssertGreaterThan(r4.meanKLD, r8.meanKLD * 10, "fewer bits, further from the reference")
    }

    func testSetsSwapAndResetAndSizes() throws {
        let model = try ModelLoader.load(url: try TestPaths.smollm2, contextLength: 64)
        let fileBytes = model.weightBytes
        let prompt: [Int32] = [504, 3575, 282, 4649, 314]
        let original = try model.logitsAfter(prompt)
        let q4k = try WeightSet(model: model, type: .q4_K)
        // 576-wide rows can't hold 256-blocks: those fall back to Q5_0; 1536-wide (ffn_down) rows keep Q4_K.
        XCTAssertEqual(Set(q4k.changes.map(\.to)), [.q4_K, .q5_0])
        XCTAssertTrue(q4k.changes.filter { $0.name.hasSuffix("ffn_down.weight") }.allSatisfy { $0.to == .q4_K })
        model.use(q4k)
        XCTAssertNotEqual(model.weightBytes, fileBytes)
        model.reset()
        let changed = try model.logitsAfter(prompt)
        XCTAssertNotEqual(changed, original)
        model.use(nil)
        XCTAssertEqual(model.weightBytes, fileBytes)
        model.reset()
        XCTAssertEqual(try model.logitsAfter(prompt), original, "reset gives the file's weights back exactly")
        // Every offered type builds and has the size its blocks say.
        for type in WeightSet.offered {
            let set = try WeightSet(model: model, type: type, include: { $0.name.hasPrefix("blk.0.") })
            for c in set.changes {
                XCTAssertEqual(c.to, WeightSet.fallback(for: type, cols: c.name.contains("ffn_down") ? 1536 : 576))
            }
        }
    }
}
