import Foundation
import XCTest
import LMEngine

/// The real models against llama.cpp's own greedy tokens, first-step top-5 logits and
/// perplexity: one table, one row per golden fixture (Tests/Fixtures/golden-*.json,
/// copied from ../shared). A new architecture's real model adds a row.
///
/// lmlab reproduces llama.cpp's CPU arithmetic (8-bit activations in its x86 float order,
/// f16 KV cache, its flash attention, its vector exp), so the logits are the same floats and
/// no near-tie can go the other way.
final class GoldenTests: XCTestCase {
    struct Case {
        let fixture: String
        let modelFile: String
        let context: Int
        /// Figures the loaded model must show (shape, file type, the family's specifics).
        let checkConfig: (DecoderModel) throws -> Void
        /// What llama-perplexity printed for the file's F32 expansion on alice-ch1-3.txt
        /// (context 256): its token count (BOS included), chunks and perplexity.
        let perplexity: (tokens: Int, chunks: Int, value: Double)
    }

    static let cases: [Case] = [
        Case(fixture: "golden-smollm2-135m-instruct-q4_1.json", modelFile: "SmolLM2-135M-Instruct.Q4_1.gguf", context: 512,
             checkConfig: { m in
                 let c = m.config
                 XCTAssertEqual(c.architecture, "llama")
                 XCTAssertEqual([c.layers, c.embedding, c.heads, c.kvHeads, c.headDim, c.feedForward], [30, 576, 9, 3, 64, 1536])
                 XCTAssertEqual([c.vocabulary, c.contextLength], [49152, 8192])
                 XCTAssertEqual(c.ropeBase, 100_000)
                 XCTAssertEqual(c.fileType, "Q4_1")
                 XCTAssertTrue(m.outputIsTied)
             },
             perplexity: (8617, 33, 19.553)),
        Case(fixture: "golden-gemma3-270m-q4_k_m.json", modelFile: "gemma-3-270m-q4_k_m.gguf", context: 1024,
             checkConfig: { m in
                 let g = try XCTUnwrap(m as? Gemma3Model)
                 let c = g.config
                 XCTAssertEqual(c.architecture, "gemma3")
                 XCTAssertEqual([c.layers, c.embedding, c.heads, c.kvHeads, c.headDim, c.feedForward], [18, 640, 4, 1, 256, 2048])
                 XCTAssertEqual(c.vocabulary, 262_144)
                 XCTAssertEqual(c.queryWidth, 1024, "query width differs from d_model")
                 XCTAssertEqual(g.slidingWindow, 512)
                 XCTAssertEqual((0..<18).filter(g.isGlobal), [5, 11, 17])
                 XCTAssertTrue(g.outputIsTied)
             },
             perplexity: (8352, 32, 18.997)),
    ]

    struct Golden: Decodable {
        struct Prompt: Decodable {
            let prompt: String
            let prompt_ids: [Int32]
            let generated_ids: [Int32]
            let top5_first: [[Double]]
        }
        let prompts: [Prompt]
    }

    static func golden(_ c: Case) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: TestPaths.fixture(c.fixture)))
    }

    /// One loaded model per row, shared by the tests (loading maps the file; it is cheap to keep).
    nonisolated(unsafe) static var loaded: [String: DecoderModel] = [:]
    func model(_ c: Case) throws -> DecoderModel {
        if let m = Self.loaded[c.modelFile] { return m }
        let m = try ModelLoader.load(url: try TestPaths.model(c.modelFile), contextLength: c.context)
        Self.loaded[c.modelFile] = m
        return m
    }

    func testConfigFromMetadata() throws {
        for c in Self.cases { try c.checkConfig(try model(c)) }
    }

    /// Every prompt's greedy tokens are llama.cpp's, and its tokenization too.
    func testGreedyTokensAgainstLlamaCpp() throws {
        for c in Self.cases {
            let m = try model(c)
            m.compute.activations = .q8
            var agreement: [Int] = []
            for p in try Self.golden(c).prompts {
                let ids = m.tokenizer.encode(p.prompt, addBOS: m.tokenizer.addsBOS, parseSpecial: true)
                XCTAssertEqual(ids, p.prompt_ids, "\(c.modelFile): \(p.prompt)")
                let out = try Generator(model: m).generate(prompt: ids, maxTokens: p.generated_ids.count,
                                                           sampler: Sampler(.greedy)) { _, _ in }.ids
                XCTAssertEqual(out, p.generated_ids, "\(c.modelFile): \(p.prompt)")
                agreement.append(zip(out, p.generated_ids).prefix { $0 == $1 }.count)
            }
            print("\(c.modelFile): greedy tokens agreeing with llama.cpp before the first difference, per prompt: \(agreement)")
        }
    }

    /// The first step's top-5 logits equal llama.cpp's: the golden files print them with
    /// 6 decimals, so a difference up to 5e-7 is their rounding (measured 4.9e-7 and 5.0e-7).
    func testTopFiveLogitsOfTheFirstStep() throws {
        for c in Self.cases {
            let m = try model(c)
            m.compute.activations = .q8
            var worst: Double = 0
            for p in try Self.golden(c).prompts {
                m.reset()
                let logits = try m.logitsAfter(p.prompt_ids)
                for pair in p.top5_first {
                    let diff = abs(Double(logits[Int(pair[0])]) - pair[1])
                    worst = max(worst, diff)
                    XCTAssertLessThanOrEqual(diff, 2e-6, "\(c.modelFile): \(p.prompt) token \(Int(pair[0]))")
                }
                XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, Int(p.top5_first[0][0]), p.prompt)
            }
            print("\(c.modelFile): largest top-5 logit difference from llama.cpp (q8 activations): \(worst)")
        }
    }

    /// Gemma-3 on C code prompts of 5 to 38 tokens (Tests/Fixtures/golden-gemma3-270m-q4_k_m-code.json,
    /// made with the golden files' llama.cpp build): from 8 tokens on, llama.cpp sums its Q6_K
    /// matmuls in its tiled kernel's order, and in the last layer it runs the feed-forward on
    /// the output row alone. Before lmlab followed both, 6 of these 10 prompts changed their
    /// greedy text within 12 tokens (a `for` header went on with " if" where llama.cpp wrote " for").
    func testCodePromptsPastEightTokens() throws {
        let c = Case(fixture: "golden-gemma3-270m-q4_k_m-code.json", modelFile: "gemma-3-270m-q4_k_m.gguf", context: 1024,
                     checkConfig: { _ in }, perplexity: (0, 0, 0))
        let m = try model(c)
        m.compute.activations = .q8
        var worst: Double = 0
        for p in try Self.golden(c).prompts {
            XCTAssertEqual(m.tokenizer.encode(p.prompt, addBOS: m.tokenizer.addsBOS, parseSpecial: true), p.prompt_ids, p.prompt)
            m.reset()
            let logits = try m.logitsAfter(p.prompt_ids)
            for pair in p.top5_first { worst = max(worst, abs(Double(logits[Int(pair[0])]) - pair[1])) }
            m.reset()
            let out = try Generator(model: m).generate(prompt: p.prompt_ids, maxTokens: p.generated_ids.count,
                                                       sampler: Sampler(.greedy)) { _, _ in }.ids
            XCTAssertEqual(out, p.generated_ids, "\(p.prompt_ids.count)-token prompt: \(p.prompt)")
        }
        XCTAssertLessThanOrEqual(worst, 2e-6, "largest first-step top-5 logit difference")
        print("gemma3 code prompts: largest first-step top-5 logit difference from llama.cpp: \(worst)")
    }

    /// llama-perplexity's protocol on alice-ch1-3.txt: with f32 activations lmlab computes
    /// the same model as llama.cpp's F32 expansion of each file.
    func testPerplexityMatchesLlamaCppF32() throws {
        let text = try String(contentsOf: TestPaths.sharedFile("reference/text/alice-ch1-3.txt"), encoding: .utf8)
        for c in Self.cases {
            let m = try model(c)
            m.compute.activations = .f32
            defer { m.compute.activations = .q8 }
            let r = try Perplexity.measure(model: m, text: text, context: 256)
            XCTAssertEqual(r.textTokens, c.perplexity.tokens, "\(c.modelFile): llama-perplexity's count, BOS included")
            XCTAssertEqual(r.chunks, c.perplexity.chunks, c.modelFile)
            XCTAssertEqual(r.scoredTokens, c.perplexity.chunks * 127, c.modelFile)
            XCTAssertEqual(r.perplexity, c.perplexity.value, accuracy: c.perplexity.value * 0.005, c.modelFile)
            print(String(format: "%@: ppl f32 %.4f (llama.cpp %.3f) in %.1f s", c.modelFile, r.perplexity, c.perplexity.value, r.seconds))
        }
    }
}
