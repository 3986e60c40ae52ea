import XCTest
import LMEngine

/// Speculative decoding: greedy output with any drafter is plain greedy's, token for
/// token; the sampling rule gives the verifier's distribution; the pieces are checked
/// on the real models.
final class SpeculativeDecodingTests: XCTestCase {
    static let maxTokens = 12

    static func prompts() throws -> [String] {
        let text = try String(contentsOf: TestPaths.fixture("speculative-prompts.txt"), encoding: .utf8)
        return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// SmolLM2 and its plain greedy continuations of every prompt, computed once for the class.
    nonisolated(unsafe) static var cached: (model: DecoderModel, prompts: [[Int32]], greedy: [[Int32]])?
    static func smollm2WithGreedy() throws -> (model: DecoderModel, prompts: [[Int32]], greedy: [[Int32]]) {
        if let cached { return cached }
        let model = try ModelLoader.load(url: try TestPaths.smollm2, contextLength: 256, threads: 2)
        let prompts = try Self.prompts().map { model.tokenizer.encode($0, addBOS: model.tokenizer.addsBOS, parseSpecial: false) }
        let greedy = try prompts.map { p in
            try Generator(model: model).generate(prompt: p, maxTokens: maxTokens, sampler: Sampler(.greedy)) { _, _ in }.ids
        }
        cached = (model, prompts, greedy)
        return (model, prompts, greedy)
    }

    func speculative(_ model: DecoderModel, _ drafter: Drafter, _ prompt: [Int32], length: DraftLength = .fixed(4),
                     sampler: Sampler = Sampler(.greedy), maxTokens: Int = maxTokens) throws -> (ids: [Int32], stats: SpeculativeStats, drafted: [Bool]) {
        var drafted: [Bool] = []
        let r = try SpeculativeDecoder(model: model, drafter: drafter, length: length)
            .generate(prompt: prompt, maxTokens: maxTokens, sampler: sampler) { id, _, d in if id >= 0 { drafted.append(d) } }
        return (r.ids, r.stats, drafted)
    }

    // MARK: the rule, on a small vocabulary

    /// Draw x from q, verify against p, many times: the tokens emitted follow p
    /// (chi-square, 4 degrees of freedom), and a token p gives no mass never appears.
    /// The same test rejects the draft's own distribution and a rule that accepts by q/p,
    /// so it would catch a wrong rule.
    func testRejectionRuleGivesTheVerifierDistribution() {
        let ids: [Int32] = [0, 1, 2, 3, 4, 5]
        let p = SparseDistribution(ids: ids, probabilities: [0.4, 0.25, 0.15, 0.1, 0.1, 0])
        let q = SparseDistribution(ids: ids, probabilities: [0.1, 0.1, 0.3, 0.2, 0.1, 0.2])
        let draws = 200_000
        var rng = SeededGenerator(seed: 7)
        func chiSquare(_ counts: [Int]) -> Double {
            var x2 = 0.0
            for i in 0..<5 {
                let expected = Double(draws) * Double(p.probabilities[i])
                x2 += pow(Double(counts[i]) - expected, 2) / expected
            }
            return x2
        }
        var right = [Int](repeating: 0, count: 6), drafts = right, wrong = right
        for _ in 0..<draws {
            let x = q.draw(uniform: rng.nextUnit())
            drafts[Int(x)] += 1
            right[Int(SpeculativeRule.verify(x, p: p, q: q) { rng.nextUnit() }.token)] += 1
            // The rule with p and q swapped in the ratio: accept with min(1, q/p).
            let px = p.probability(of: x), qx = q.probability(of: x)
            if px > 0, rng.nextUnit() < min(1, qx / px) { wrong[Int(x)] += 1 } else {
                let r = SpeculativeRule.residual(p: p, q: q)
                wrong[Int(r.draw(uniform: rng.nextUnit()))] += 1
            }
        }
        let critical = 18.47   // chi-square, 4 degrees of freedom, p = 0.001
        XCTAssertLessThan(chiSquare(right), critical, "\(right)")
        XCTAssertEqual(right[5], 0, "p(5) = 0, so token 5 must never be emitted")
        XCTAssertGreaterThan(chiSquare(drafts), 100 * critical, "the test must tell q from p")
        XCTAssertGreaterThan(chiSquare(wrong), 10 * critical, "the test must catch a wrong acceptance rule: \(wrong)")
    }

    /// Greedy is the rule with point masses: agreement keeps, disagreement gives p's token, no randomness used.
    func testGreedyRuleIsArgmaxAgreement() {
        let never: () -> Float = { XCTFail("greedy must not draw"); return 0 }
        XCTAssertTrue(SpeculativeRule.verify(3, p: .pointMass(3), q: .pointMass(3), uniform: never) == (true, 3))
        XCTAssertTrue(SpeculativeRule.verify(3, p: .pointMass(8), q: .pointMass(3), uniform: never) == (false, 8))
    }

    /// The distribution the sampler exposes is the one it samples from: same support,
    /// sums to 1, and greedy is a point mass on the sampled token.
    func testSamplerDistributionMatchesItsDraws() {
        var rng = SeededGenerator(seed: 11)
        let settings = SamplerSettings(temperature: 0.7, topK: 20, topP: 0.9, minP: 0.05, repeatPenalty: 1.2, seed: 5)
        for trial in 0..<200 {
            let logits = (0..<500).map { _ in rng.nextUnit() * 12 }
            let recent: [Int32] = (0..<10).map { _ in Int32(rng.next() % 500) }
            let a = Sampler(settings), b = Sampler(SamplerSettings(temperature: 0, repeatPenalty: 1.2))
            logits.withUnsafeBufferPointer { l in
                let d = a.distribution(l, recent: recent[...])
                XCTAssertEqual(d.probabilities.reduce(0, +), 1, accuracy: 1e-5)
                XCTAssertLessThanOrEqual(d.ids.count, 20)
                for _ in 0..<5 { XCTAssertTrue(d.ids.contains(a.sample(l, recent: recent[...])), "trial \(trial)") }
                XCTAssertEqual(b.distribution(l, recent: recent[...]), .pointMass(b.sample(l, recent: recent[...])))
            }
        }
    }

    func testLookupProposesWhatFollowedTheLongestMatch() {
        // "1 2 3" recurs at the end: what followed its last earlier occurrence is proposed.
        XCTAssertEqual(LookupDrafter.lookup([1, 2, 3, 9, 5, 1, 2, 3, 7, 8, 1, 2, 3], maxN: 3, count: 3), [7, 8, 1])
        // n = 1 when nothing longer matches; nothing when the last token is new.
        XCTAssertEqual(LookupDrafter.lookup([4, 5, 6, 9, 6], maxN: 3, count: 2), [9, 6])
        XCTAssertEqual(LookupDrafter.lookup([4, 5, 6, 7], maxN: 3, count: 2), [])
        // The longest match wins over a later shorter one.
        XCTAssertEqual(LookupDrafter.lookup([1, 2, 3, 4, 0, 2, 3, 5, 1, 2, 3], maxN: 3, count: 1), [4])
    }

    // MARK: the real models

    /// The verifier's batched logits (the verify pass) equal its one-token-at-a-time
    /// logits (plain decoding) bit for bit on SmolLM2 (Q4_1): what makes greedy output identical.
    func testBatchedLogitsEqualSingleTokenLogitsOnSmolLM2() throws {
        let url = try TestPaths.smollm2
        let batched = try ModelLoader.load(url: url, contextLength: 128, threads: 2)
        let single = try ModelLoader.load(url: url, contextLength: 128, threads: 2)
        let ids = batched.tokenizer.encode("The cat sat on the mat, and the dog lay by the door. Then", addBOS: false, parseSpecial: false)
        var a: [[Float]] = [], b: [[Float]] = []
        try batched.forward(ids, logitsFrom: 0) { _, l in a.append(Array(l)) }
        for id in ids { try single.forward([id], logitsFrom: 0) { _, l in b.append(Array(l)) } }
        XCTAssertEqual(a.count, ids.count)
        for i in ids.indices { XCTAssertTrue(a[i] == b[i], "position \(i): batched and single logits differ") }
    }

    /// Gemma's Q4_K matmuls sum groups of four tokens in another order (llama.cpp's), so its
    /// batched logits differ from one-token logits in the last bits — unless the batch is
    /// computed in decode order, as the verify pass does. Then Gemma drafting for itself
    /// keeps every token and writes plain greedy's text.
    func testGemmaVerifiesInDecodeOrder() throws {
        let url = try TestPaths.model("gemma-3-270m-q4_k_m.gguf")
        let batched = try ModelLoader.load(url: url, contextLength: 128, threads: 2)
        let single = try ModelLoader.load(url: url, contextLength: 128, threads: 2)
        let ids = batched.tokenizer.encode("The cat sat on the mat, and the dog", addBOS: true, parseSpecial: false)
        var fast: [[Float]] = [], exact: [[Float]] = [], one: [[Float]] = []
        try batched.forward(ids, logitsFrom: 0) { _, l in fast.append(Array(l)) }
        batched.reset()
        batched.compute.decodeOrder = true
        try batched.forward(ids, logitsFrom: 0) { _, l in exact.append(Array(l)) }
        batched.compute.decodeOrder = false
        for id in ids { try single.forward([id], logitsFrom: 0) { _, l in one.append(Array(l)) } }
        XCTAssertNotEqual(fast, one, "Gemma's four-token order should differ in the last bits")
        for i in ids.indices { XCTAssertTrue(exact[i] == one[i], "position \(i): decode-order batch differs from one token at a time") }

        let prompt = batched.tokenizer.encode("The capital of France is", addBOS: true, parseSpecial: false)
        let plain = try Generator(model: batched).generate(prompt: prompt, maxTokens: 16, sampler: Sampler(.greedy)) { _, _ in }.ids
        let r = try speculative(batched, ModelDrafter(model: single, sampler: Sampler(.greedy)), prompt, maxTokens: 16)
        XCTAssertEqual(r.ids, plain)
        XCTAssertEqual(r.stats.accepted, r.stats.drafted)
    }

    func testGreedyWithLookupEqualsPlainGreedy() throws {
        let (model, prompts, greedy) = try Self.smollm2WithGreedy()
        XCTAssertGreaterThanOrEqual(prompts.count, 50)
        var drafted = 0, accepted = 0
        for (i, p) in prompts.enumerated() {
            let r = try speculative(model, LookupDrafter(maxN: 3), p)
            XCTAssertEqual(r.ids, greedy[i], "prompt \(i)")
            drafted += r.stats.drafted; accepted += r.stats.accepted
            XCTAssertEqual(r.drafted.filter { $0 }.count, min(r.stats.accepted, r.ids.count), "prompt \(i)")
        }
        XCTAssertGreaterThan(accepted, 0, "the repetitive prompts must accept some lookups (\(drafted) drafted)")
    }

    /// SmolLM2 drafting for itself: every draft token is kept, and the adaptive length grows.
    func testSmolLM2DraftingForItselfAcceptsEverything() throws {
        let (model, prompts, greedy) = try Self.smollm2WithGreedy()
        let draft = try ModelLoader.load(url: try TestPaths.smollm2, contextLength: 256, threads: 2)
        for i in [0, 10, 25] {
            let r = try speculative(model, ModelDrafter(model: draft, sampler: Sampler(.greedy)), prompts[i], length: .adaptive(max: 8))
            XCTAssertEqual(r.ids, greedy[i], "prompt \(i)")
            XCTAssertEqual(r.stats.accepted, r.stats.drafted, "prompt \(i)")
            XCTAssertGreaterThan(r.stats.draftedAt.count, 4, "full acceptance grows the draft length")
        }
    }

    func testGreedyWithTinySmolEqualsPlainGreedy() throws {
        let (model, prompts, greedy) = try Self.smollm2WithGreedy()
        let draft = try ModelLoader.load(url: try TestPaths.model("tiny-smol.gguf"), contextLength: 256, threads: 2)
        XCTAssertNil(SpeculativeDecoder.vocabularyMismatch(verifier: model, verifierName: "smollm2", draft: draft, draftName: "tiny-smol"))
        var drafted = 0, accepted = 0
        for (i, p) in prompts.enumerated() {
            let r = try speculative(model, ModelDrafter(model: draft, sampler: Sampler(.greedy)), p)
            XCTAssertEqual(r.ids, greedy[i], "prompt \(i)")
            drafted += r.stats.drafted; accepted += r.stats.accepted
        }
        XCTAssertGreaterThan(accepted, drafted / 25, "tiny-smol should agree with SmolLM2 now and then (\(accepted) of \(drafted))")
    }

    /// Sampling with a draft keeps to the verifier's candidates and stops where asked.
    func testSamplingWithADraftRuns() throws {
        let (model, prompts, _) = try Self.smollm2WithGreedy()
        let settings = SamplerSettings(temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, seed: 3)
        for i in [19, 23, 24] {
            let r = try speculative(model, LookupDrafter(maxN: 3), prompts[i], sampler: Sampler(settings), maxTokens: 30)
            XCTAssertTrue(r.ids.count == 30 || r.stats.stopReason == .endOfText, "prompt \(i): \(r.ids.count) tokens, \(r.stats.stopReason)")
            XCTAssertGreaterThan(r.stats.rounds, 0)
            XCTAssertLessThanOrEqual(r.stats.rounds, r.ids.count + 1, "a round gives at least one token")
            XCTAssertEqual(r.stats.acceptedAt.reduce(0, +), r.stats.accepted)
            XCTAssertTrue(zip(r.stats.acceptedAt, r.stats.draftedAt).allSatisfy { $0 <= $1 })
        }
    }

    func testADifferentVocabularyIsRefused() throws {
        let (model, _, _) = try Self.smollm2WithGreedy()
        let stories = try ModelLoader.load(url: try TestPaths.model("tiny-stories.gguf"), contextLength: 64, threads: 1)
        let message = SpeculativeDecoder.vocabularyMismatch(verifier: model, verifierName: "smollm2", draft: stories, draftName: "tiny-stories")
        XCTAssertEqual(message, "tiny-stories can't draft for smollm2: its vocabulary has 1,024 tokens, smollm2's 49,152")
        XCTAssertNil(SpeculativeDecoder.vocabularyMismatch(verifier: model, verifierName: "a", draft: model, draftName: "b"))
    }
}
