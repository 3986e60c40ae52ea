import Foundation
import XCTest
import LMEngine

/// The trainer's model, exported to GGUF and loaded by the engine's ModelLoader,
/// computes the same logits as the trainer's own forward pass.
final class TrainingExportTests: XCTestCase {
    func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-export-\(UUID().uuidString)-\(name)")
    }

    func testExportedModelMatchesTrainerLogits() throws {
        let vocabulary = TrainingVocabulary.characters("0123456789+-=")
        let shape = ModelShape(vocabulary: vocabulary.count, embedding: 32, layers: 2, heads: 4, feedForward: 48, context: 16)
        let model = TrainableLlama<Float>(shape: shape, seed: 5)
        // Weights of a realistic size (not the tiny initialization), so every part matters.
        var rng = SeededRandom(seed: 6)
        for t in model.layout.tensors {
            for i in t.offset..<(t.offset + t.count) {
                model.parameters[i] = t.isNorm ? Float(1 + rng.normal() * 0.2) : Float(rng.normal() * 0.3)
            }
        }
        let tokenizer = try vocabulary.makeTokenizer()
        let tokens = tokenizer.encode("734+58=792", addBOS: true, parseSpecial: true)
        XCTAssertEqual(tokens.count, 11)
        XCTAssertEqual(tokens[0], 0, "BOS is <|endoftext|>")
        let expected = model.logits(tokens)   // [11 × vocabulary]

        for type in [GGMLType.f32, .f16] {
            let url = temporaryURL("\(type.name).gguf")
            defer { try? FileManager.default.removeItem(at: url) }
            try GGUFExport.write(parameters: model.parameters, shape: shape, vocabulary: vocabulary, name: "test",
                                 matrixType: type, to: url)
            let loaded = try ModelLoader.load(url: url, threads: 1)
            // The trainer computes in f32; the engine's default path rounds K, V and attention
            // to f16 as llama.cpp does, so compare with the engine's f32 path.
            loaded.compute.activations = .f32
            XCTAssertEqual(loaded.config.architecture, "llama")
            XCTAssertEqual(loaded.config.layers, 2)
            XCTAssertTrue(loaded.outputIsTied)
            XCTAssertEqual(loaded.tokenizer.encode("734+58=792"), tokens, "the engine's tokenizer reads the vocabulary back")
            XCTAssertEqual(loaded.tokenizer.decode(Array(tokens.dropFirst())), "734+58=792")

            var worst: Float = 0, scale: Float = 0
            var agree = 0
            try loaded.forward(tokens, logitsFrom: 0) { i, row in
                let mine = Array(expected[(i * shape.vocabulary)..<((i + 1) * shape.vocabulary)])
                for v in 0..<shape.vocabulary {
                    worst = max(worst, abs(row[v] - mine[v]))
                    scale = max(scale, abs(mine[v]))
                }
                if row.indices.max(by: { row[$0] < row[$1] }) == mine.indices.max(by: { mine[$0] < mine[$1] }) { agree += 1 }
            }
            // F32: only summation order differs. F16: weights rounded to 11 bits, activations to f16.
            let tolerance: Float = type == .f32 ? 1e-4 : 2e-2
            XCTAssertLessThanOrEqual(worst, tolerance * max(1, scale), "\(type.name): largest logit difference \(worst)")
            XCTAssertGreaterThanOrEqual(agree, type == .f32 ? tokens.count : tokens.count - 1, "\(type.name): top token agrees")
        }
    }

    func testCharacterVocabularyDropsNothingItKnows() throws {
        let v = TrainingVocabulary.characters("ab\n")
        XCTAssertEqual(v.tokens, ["<|endoftext|>", "a", "b", "Ċ"])
        let t = try v.makeTokenizer()
        XCTAssertEqual(t.encode("ab\nba", addBOS: false, parseSpecial: true), [1, 2, 3, 2, 1])
        XCTAssertEqual(t.encode("a<|endoftext|>b", addBOS: false, parseSpecial: true), [1, 0, 2])
    }

    func testBPETrainerOutputLoadsInTheEngineTokenizer() throws {
        let text = String(repeating: "the cat sat on the mat. the dog sat on the log.\n<|endoftext|>", count: 20) + "naïve café ✓"
        let vocabulary = try BPETrainer.train(text: text, size: 270)
        XCTAssertEqual(vocabulary.tokens.count, 270)
        XCTAssertEqual(vocabulary.merges.count, 270 - 257)
        // A pair seen once is never merged: the vocabulary stops short rather than memorize.
        XCTAssertLessThan(try BPETrainer.train(text: text, size: 1000).count, 1000)
        XCTAssertTrue(vocabulary.tokens.contains("Ġthe"), "the most frequent word with its space becomes one token")
        // Deterministic: the same text gives the same merges.
        XCTAssertEqual(try BPETrainer.train(text: text, size: 270), vocabulary)

        // Through a GGUF file and the engine's own tokenizer factory.
        var w = GGUFWriter()
        for (k, v) in vocabulary.metadata() { w.set(k, v) }
        let url = temporaryURL("tok.gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try w.write(to: url)
        let tokenizer = try TokenizerFactory.make(from: try GGUFFile(url: url))
        let sample = "the dog sat on the cat. naïve ✓ unseen words"
        let ids = tokenizer.encode(sample, addBOS: false, parseSpecial: true)
        XCTAssertEqual(tokenizer.decode(ids), sample, "byte-level: any text round-trips")
        XCTAssertLessThan(ids.count, sample.utf8.count - 10, "merges shorten known words")
        XCTAssertEqual(tokenizer.encode(" the", addBOS: false, parseSpecial: true).count, 1)
    }
}
