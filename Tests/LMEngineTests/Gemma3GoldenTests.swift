import Foundation
import XCTest
import LMEngine

/// Gemma-3-270M Q4_K_M against llama.cpp's greedy tokens, logits and perplexity
/// (Tests/Fixtures/golden-gemma3-270m-q4_k_m.json, copied from ../shared).
final class Gemma3GoldenTests: XCTestCase {
    struct Golden: Decodable {
        struct Prompt: Decodable {
            let prompt: String
            let prompt_ids: [Int32]
            let generated_ids: [Int32]
            let top5_first: [[Double]]
        }
        let prompts: [Prompt]
    }
    static let golden: Golden = {
        let data = try! Data(contentsOf: TestPaths.fixture("golden-gemma3-270m-q4_k_m.json"))
        return try! JSONDecoder().decode(Golden.self, from: data)
    }()

    nonisolated(unsafe) static var cached: DecoderModel?
    func model() throws -> DecoderModel {
        if let m = Self.cached { return m }
        let m = try ModelLoader.load(url: try TestPaths.model("gemma-3-270m-q4_k_m.gguf"), contextLength: 1024)
        Self.cached = m
        return m
    }

    func testConfigAndLayerPattern() throws {
        let m = try XCTUnwrap(try model() as? Gemma3Model)
        let c = m.config
        XCTAssertEqual(c.architecture, "gemma3")
        XCTAssertEqual([c.layers, c.embedding, c.heads, c.kvHeads, c.headDim, c.feedForward], [18, 640, 4, 1, 256, 2048])
        XCTAssertEqual(c.vocabulary, 262_144)
        XCTAssertEqual(c.queryWidth, 1024, "query width differs from d_model")
        XCTAssertEqual(m.slidingWindow, 512)
        XCTAssertEqual((0..<18).filter(m.isGlobal), [5, 11, 17])
        XCTAssertTrue(m.outputIsTied)
    }

    func testGreedyTokensAgainstLlamaCpp() throws {
        let m = try model()
        m.compute.activations = .q8
        var agreement: [Int] = []
        for p in Self.golden.prompts {
            let ids = m.tokenizer.encode(p.prompt, addBOS: m.tokenizer.addsBOS, parseSpecial: true)
            XCTAssertEqual(ids, p.prompt_ids, p.prompt)
            let out = try Generator(model: m).generate(prompt: ids, maxTokens: p.generated_ids.count,
                                                       sampler: Sampler(.greedy)) { _, _ in }.ids
            XCTAssertEqual(out, p.generated_ids, p.prompt)
            agreement.append(zip(out, p.generated_ids).prefix { $0 == $1 }.count)
        }
        print("gemma3 greedy tokens agreeing with llama.cpp, per prompt: \(agreement) of \(Self.golden.prompts.map { $0.generated_ids.count })")
    }

    func testTopFiveLogitsOfTheFirstStep() throws {
        let m = try model()
        var worst: Double = 0
        for p in Self.golden.prompts {
            m.reset()
            let logits = try m.logitsAfter(p.prompt_ids)
            for pair in p.top5_first {
                let diff = abs(Double(logits[Int(pair[0])]) - pair[1])
                worst = max(worst, diff)
                XCTAssertLessThanOrEqual(diff, 2e-6, "\(p.prompt) token \(Int(pair[0]))")
            }
            XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, Int(p.top5_first[0][0]), p.prompt)
        }
        print("gemma3 largest top-5 logit difference from llama.cpp: \(worst)")
        // The golden file prints 6 decimals: up to 5e-7 is its rounding (measured 5.0e-7).
    }

    /// llama-perplexity on alice-ch1-3.txt: 18.997 for llama.cpp's F32 expansion of this file.
    func testPerplexityMatchesLlamaCppF32() throws {
        let text = try String(contentsOf: TestPaths.sharedFile("reference/text/alice-ch1-3.txt"), encoding: .utf8)
        let m = try model()
        m.compute.activations = .f32
        defer { m.compute.activations = .q8 }
        let r = try Perplexity.measure(model: m, text: text, context: 256)
        XCTAssertEqual(r.textTokens, 8352, "llama-perplexity's count, BOS included")
        XCTAssertEqual(r.chunks, 32)
        XCTAssertEqual(r.perplexity, 18.997, accuracy: 18.997 * 0.005)
        print(String(format: "gemma3 ppl f32: %.4f (llama.cpp 18.997) in %.1f s", r.perplexity, r.seconds))
    }
}
