import Foundation
import XCTest
import LMEngine

/// Every architecture held to llama.cpp on random-weight files: each fixture in
/// Tests/Fixtures/differential/ names how `synth` wrote a file (architecture, shape, type,
/// seed) and holds llama.cpp's greedy tokens and top-5 logits per step for prompts run on it
/// (scripts/differential.sh made them with the llama.cpp of the llama-cpp-python 0.3.36
/// sdist; the K-quant ones with its libllama built for the golden files' instruction set,
/// `llamacpp-build.sh --libs zen5`). The test writes the same file again, bit for bit, and
/// runs the same prompts: llama-q5_k and llama-q6_k hold lmlab to ggml's vec_dot order below
/// 8 prompt tokens and its tiled K-quant kernel's from 8 on.
///
/// `LMLAB_DIFFERENTIAL_DIR=folder` runs the full reports the script leaves there instead
/// of the committed sample, and prints the first differing token and the largest top-5
/// logit gap per case.
final class DifferentialTests: XCTestCase {
    struct Fixture: Decodable {
        struct Shape: Decodable { let layers, embedding, heads, kvHeads, feedForward, vocabulary: Int; let headSize: Int? }
        struct Case: Decodable {
            let prompt: String?
            let kind: String?
            let prompt_ids: [Int32]
            let generated_ids: [Int32]
            let top5_per_step: [[[Double]]]
        }
        /// The file llama.cpp ran: models/FILE for a real model (no `architecture`).
        let model: String?
        // How synth wrote the file, for a random-weight one.
        let architecture: String?
        let shape: Shape?
        let type: String?
        let seed: UInt64?
        let n_ctx: Int
        let cases: [Case]
    }

    static let types: [String: (GGMLType, Bool)] = ["q4_0": (.q4_0, false), "q8_0": (.q8_0, false), "f16": (.f16, false),
                                                    "f32": (.f32, false), "q4_k": (.q4_K, false), "q5_k": (.q5_K, false), "q6_k": (.q6_K, false),
                                                    "q4_k_m": (.q4_K, true)]

    func fixtures() throws -> [URL] {
        let folder = ProcessInfo.processInfo.environment["LMLAB_DIFFERENTIAL_DIR"].map { URL(fileURLWithPath: $0) }
            ?? TestPaths.fixture("differential")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        let json = files.filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
        if json.isEmpty { throw XCTSkip("no differential fixtures in \(folder.path)") }
        return json
    }

    /// The random-weight file a fixture names, written again by synth (removed by the caller).
    func synthesize(_ f: Fixture, architecture: String) throws -> URL {
        let s = try XCTUnwrap(f.shape, "a synth fixture names its shape")
        let shape = SyntheticModel.Shape(layers: s.layers, embedding: s.embedding, heads: s.heads, kvHeads: s.kvHeads,
                                         feedForward: s.feedForward, vocabulary: s.vocabulary, headSize: s.headSize)
        let typeName = try XCTUnwrap(f.type, "a synth fixture names its type")
        let (type, mixture) = try XCTUnwrap(Self.types[typeName], typeName)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("differential-\(UUID()).gguf")
        try SyntheticModel.write(shape, architecture: architecture, type: type, mixture: mixture, to: file, seed: f.seed ?? 0,
                                 contextLength: 4096)
        return file
    }

    /// Random-weight files of every architecture (written again by synth) and the real models
    /// (models/, skipped when not pulled), token for token and top-5 logit by logit; on the
    /// real models also the tokenization of each text prompt.
    func testEveryArchitectureAgainstLlamaCpp() throws {
        var ran = 0
        for url in try fixtures() {
            let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
            let file: URL
            if let architecture = f.architecture {
                file = try synthesize(f, architecture: architecture)
            } else {
                let name = try XCTUnwrap(f.model, "\(url.lastPathComponent) names neither a synth file nor a model")
                do { file = try TestPaths.model(name) } catch is XCTSkip {
                    print("\(url.lastPathComponent): models/\(name) not pulled, skipped"); continue
                }
            }
            defer { if f.architecture != nil { try? FileManager.default.removeItem(at: file) } }
            let model = try ModelLoader.load(url: file, contextLength: f.n_ctx, threads: 2)
            model.compute.activations = .q8
            var diverged = 0, worst: Double = 0, report: [String] = [], kinds: [String: (cases: Int, diverged: Int)] = [:]
            for (i, c) in f.cases.enumerated() {
                if let text = c.prompt, f.architecture == nil {
                    let ids = model.tokenizer.encode(text, addBOS: model.tokenizer.addsBOS, parseSpecial: true)
                    XCTAssertEqual(ids, c.prompt_ids, "\(url.lastPathComponent) case \(i): tokenization of \(text.debugDescription)")
                }
                model.reset()
                var ids: [Int32] = [], gap: Double = 0, firstDifference: Int?, firstGap: Int?
                var logits = try model.logitsAfter(c.prompt_ids)
                for step in 0..<c.generated_ids.count {
                    for pair in c.top5_per_step[step] { gap = max(gap, abs(Double(logits[Int(pair[0])]) - pair[1])) }
                    if gap > 1e-4 && firstGap == nil { firstGap = step }
                    // argmax, ties to the lowest id (llama.cpp's order)
                    var best = 0
                    for t in 1..<logits.count where logits[t] > logits[best] { best = t }
                    ids.append(Int32(best))
                    if Int32(best) != c.generated_ids[step] { firstDifference = step; break }
                    if step + 1 < c.generated_ids.count { logits = try model.logitsAfter([Int32(best)]) }
                }
                worst = max(worst, gap)
                let kind = c.kind ?? "ids"
                kinds[kind, default: (0, 0)].cases += 1
                if let step = firstDifference {
                    diverged += 1
                    kinds[kind, default: (0, 0)].diverged += 1
                    report.append("case \(i) (\(kind), \(c.prompt_ids.count) prompt tokens): first differing token at step \(step): "
                                  + "lmlab \(ids[step]), llama.cpp \(c.generated_ids[step])")
                }
                if let step = firstGap {
                    report.append("case \(i) (\(kind), \(c.prompt_ids.count) prompt tokens): top-5 gap above 1e-4 from step \(step), largest \(gap)")
                }
                XCTAssertNil(firstDifference, "\(url.lastPathComponent) case \(i)")
                XCTAssertLessThanOrEqual(gap, 1e-4, "\(url.lastPathComponent) case \(i): top-5 logit gap")
            }
            ran += 1
            let lengths = f.cases.map(\.prompt_ids.count)
            let perKind = kinds.keys.sorted().map { "\($0) \(kinds[$0]!.cases - kinds[$0]!.diverged)/\(kinds[$0]!.cases)" }
            print("\(url.lastPathComponent) (\(f.architecture ?? f.model ?? "?"), \(f.type ?? "as pulled")): \(f.cases.count) cases of "
                  + "\(lengths.min() ?? 0)–\(lengths.max() ?? 0) prompt tokens, \(diverged) diverged, largest top-5 logit gap \(worst); "
                  + "equal per kind: " + perKind.joined(separator: ", ")
                  + (report.isEmpty ? "" : "\n  " + report.joined(separator: "\n  ")))
        }
        if ran == 0 { throw XCTSkip("no differential fixture could run (models not pulled)") }
    }
}
