import Foundation
import XCTest
import LMEngine

/// SmolLM2-135M-Instruct Q4_1 against llama.cpp's own greedy tokens and logits
/// (Tests/Fixtures/golden-smollm2-135m-instruct-q4_1.json, copied from ../shared).
final class LlamaGoldenTests: XCTestCase {
    struct Golden: Decodable {
        struct Prompt: Decodable {
            let prompt: String
            let prompt_ids: [Int32]
            let generated_ids: [Int32]
            let generated_text: String
            let top5_first: [[Double]]
        }
        let prompts: [Prompt]
    }

    static let golden: Golden = {
        let data = try! Data(contentsOf: TestPaths.fixture("golden-smollm2-135m-instruct-q4_1.json"))
        return try! JSONDecoder().decode(Golden.self, from: data)
    }()

    nonisolated(unsafe) static var cached: DecoderModel?
    func model() throws -> DecoderModel {
        if let m = Self.cached { return m }
        let m = try ModelLoader.load(url: try TestPaths.smollm2, contextLength: 512)
        Self.cached = m
        return m
    }

    func testConfigFromMetadata() throws {
        let c = try model().config
        XCTAssertEqual(c.architecture, "llama")
        XCTAssertEqual(c.layers, 30)
        XCTAssertEqual(c.embedding, 576)
        XCTAssertEqual(c.heads, 9)
        XCTAssertEqual(c.kvHeads, 3)
        XCTAssertEqual(c.headDim, 64)
        XCTAssertEqual(c.feedForward, 1536)
        XCTAssertEqual(c.vocabulary, 49152)
        XCTAssertEqual(c.contextLength, 8192)
        XCTAssertEqual(c.ropeBase, 100_000)
        XCTAssertEqual(c.fileType, "Q4_1")
        XCTAssertTrue(try model().outputIsTied)
    }

    func greedy(_ m: DecoderModel, _ ids: [Int32]) throws -> [Int32] {
        let g = Generator(model: m)
        return try g.generate(prompt: ids, maxTokens: 32, sampler: Sampler(.greedy)) { _, _ in }.ids
    }

    /// Every prompt's 32 greedy tokens are llama.cpp's. lmlab reproduces llama.cpp's CPU
    /// arithmetic (8-bit activations in its x86 float order, f16 KV cache, its flash
    /// attention, its vector exp), so the logits are the same floats and no near-tie can
    /// go the other way.
    func testGreedyTokensAgainstLlamaCpp() throws {
        let m = try model()
        m.compute.activations = .q8
        var agreement: [Int] = []
        for p in Self.golden.prompts {
            let ids = m.tokenizer.encode(p.prompt, addBOS: m.tokenizer.addsBOS, parseSpecial: true)
            XCTAssertEqual(ids, p.prompt_ids, p.prompt)
            let out = try greedy(m, ids)
            XCTAssertEqual(out, p.generated_ids, p.prompt)
            agreement.append(zip(out, p.generated_ids).prefix { $0 == $1 }.count)
        }
        print("greedy tokens agreeing with llama.cpp before the first difference, per prompt: \(agreement)")
    }

    /// The first step's top-5 logits equal llama.cpp's: the golden file prints them
    /// with 6 decimals, so a difference up to 5e-7 is its rounding (measured 4.9e-7).
    func testTopFiveLogitsOfTheFirstStep() throws {
        let m = try model()
        m.compute.activations = .q8
        var worst: Double = 0
        for p in Self.golden.prompts {
            m.reset()
            let logits = try m.logitsAfter(p.prompt_ids)
            for pair in p.top5_first {
                let diff = abs(Double(logits[Int(pair[0])]) - pair[1])
                worst = max(worst, diff)
                XCTAssertLessThanOrEqual(diff, 2e-6, "\(p.prompt) token \(Int(pair[0]))")
            }
            let top = logits.indices.max { logits[$0] < logits[$1] }!
            XCTAssertEqual(top, Int(p.top5_first[0][0]))
        }
        print("largest top-5 logit difference from llama.cpp (q8 activations): \(worst)")
    }

    /// llama-perplexity's protocol on alice-ch1-3.txt: llama.cpp's F32 expansion of
    /// this file gives 19.553; with f32 activations lmlab computes the same model.
    func testPerplexityMatchesLlamaCppF32() throws {
        let url = try TestPaths.sharedFile("reference/text/alice-ch1-3.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        let m = try model()
        m.compute.activations = .f32
        defer { m.compute.activations = .q8 }
        let r = try Perplexity.measure(model: m, text: text, context: 256)
        XCTAssertEqual(r.textTokens, 8617)
        XCTAssertEqual(r.chunks, 33)
        XCTAssertEqual(r.scoredTokens, 33 * 127)
        XCTAssertEqual(r.perplexity, 19.553, accuracy: 19.553 * 0.005)
        print(String(format: "ppl f32: %.4f (llama.cpp 19.553) in %.1f s", r.perplexity, r.seconds))
    }
}
