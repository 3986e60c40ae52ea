import Foundation
import XCTest
import LMEngine

/// Recipes, data, determinism and checkpoints of the Trainer (small models, a few steps).
final class TrainingRecipeTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func writeRecipe(_ json: String, name: String = "r.json") throws -> URL {
        let url = folder.appendingPathComponent(name)
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    let mathRecipe = """
        { "name": "m", "data": { "kind": "arithmetic", "maxOperand": 100 },
          "tokenizer": { "kind": "characters", "characters": "0123456789+-=" },
          "model": { "embedding": 32, "layers": 2, "heads": 4, "feedForward": 64, "context": 12 },
          "training": { "steps": 10, "batch": 8, "learningRate": 0.003, "seed": 5, "threads": 2 },
          "output": "m.gguf" }
        """

    func testSameSeedSameModelAndResumeContinuesExactly() throws {
        let recipe = try TrainingRecipe.load(try writeRecipe(mathRecipe))
        XCTAssertEqual(recipe.outputURL.path, folder.appendingPathComponent("m.gguf").standardizedFileURL.path,
                       "relative paths start at the recipe's folder")
        let straight = try Trainer(recipe: recipe)
        for _ in 0..<10 { straight.trainStep() }

        let first = try Trainer(recipe: recipe)
        for _ in 0..<4 { first.trainStep() }
        first.measureValidation()
        let checkpoint = folder.appendingPathComponent("m.ckpt")
        try first.saveCheckpoint(to: checkpoint)
        let resumed = try Trainer(recipe: recipe)
        try resumed.resume(from: checkpoint)
        XCTAssertEqual(resumed.step, 4)
        XCTAssertEqual(resumed.trainLosses, first.trainLosses)
        XCTAssertEqual(resumed.validationLosses.count, 1)
        for _ in 4..<10 { resumed.trainStep() }
        XCTAssertTrue(resumed.isFinished)
        XCTAssertEqual(resumed.model.parameters, straight.model.parameters, "4 steps + resume + 6 steps = 10 steps, bit for bit")
        XCTAssertEqual(resumed.trainLosses, straight.trainLosses)

        // A checkpoint from another recipe is refused with a reason.
        var other = recipe
        other.training.seed = 6
        XCTAssertThrowsError(try Trainer(recipe: other).resume(from: checkpoint)) { e in
            XCTAssertTrue("\(e)".contains("different recipe"), "\(e)")
        }
        try Data("LMLABCKPT\n".utf8 + [1, 2, 3]).write(to: checkpoint)
        XCTAssertThrowsError(try resumed.resume(from: checkpoint))
    }

    /// Small operand ranges hold out a tenth of their problems (maxOperand 10 has 200 in
    /// all; asking for 2,000 distinct ones used to loop for ever); large ones hold out 2,000.
    func testHeldOutSetFitsSmallOperandRanges() throws {
        XCTAssertEqual(ArithmeticTask(maxOperand: 10).heldOut().count, 20)
        XCTAssertEqual(Set(ArithmeticTask(maxOperand: 10).heldOut()).count, 20)
        XCTAssertEqual(ArithmeticTask(maxOperand: 100).heldOut().count, 2000)
        XCTAssertEqual(ArithmeticTask(maxOperand: 1000).heldOut().count, 2000)
        let data = try ArithmeticData(task: ArithmeticTask(maxOperand: 10), vocabulary: .characters("0123456789+-="))
        XCTAssertEqual(data.batch(step: 0, size: 32, length: 8, seed: 1).tokens.count, 32 * 8)
    }

    func testArithmeticBatchesScoreOnlyTheAnswerAndAvoidTheHeldOutSet() throws {
        let vocabulary = TrainingVocabulary.characters("0123456789+-=")
        let task = ArithmeticTask(maxOperand: 1000)
        let data = try ArithmeticData(task: task, vocabulary: vocabulary, balancedShare: 0.5)
        let tokenizer = try vocabulary.makeTokenizer()
        let (tokens, targets) = data.batch(step: 3, size: 50, length: 16, seed: 1)
        XCTAssertEqual(tokens.count, 50 * 16)
        let heldOut = Set(task.heldOut().map { $0.prompt })
        for s in 0..<50 {
            let row = Array(tokens[(s * 16)..<((s + 1) * 16)]), goal = Array(targets[(s * 16)..<((s + 1) * 16)])
            let text = tokenizer.decode(row.filter { $0 != 0 })
            let parts = text.split(separator: "=")
            XCTAssertEqual(parts.count, 2, text)
            let prompt = String(parts[0]) + "="
            XCTAssertFalse(heldOut.contains(prompt), "\(prompt) is held out")
            // The answer is right, and only the answer and the end token are targets.
            let operands = prompt.dropLast().split(whereSeparator: { $0 == "+" || ($0 == "-") })
            let a = Int(operands[0])!, b = Int(operands[1])!
            XCTAssertEqual(String(parts[1]), String(prompt.contains("+") ? a + b : a - b))
            let scored = goal.filter { $0 >= 0 }
            XCTAssertEqual(tokenizer.decode(scored.filter { $0 != 0 }), String(parts[1]))
            XCTAssertEqual(scored.last, 0, "the end token is scored")
        }
        // Same step, same batch; another step, another batch.
        XCTAssertEqual(data.batch(step: 3, size: 50, length: 16, seed: 1).tokens, tokens)
        XCTAssertNotEqual(data.batch(step: 4, size: 50, length: 16, seed: 1).tokens, tokens)
    }

    func testBadRecipesSayWhatIsWrong() throws {
        func error(_ json: String) -> String {
            do { _ = try TrainingRecipe.load(try writeRecipe(json)); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("{"), "bad recipe: r.json is not valid JSON")
        XCTAssertTrue(error(mathRecipe.replacingOccurrences(of: "\"output\": \"m.gguf\"", with: "\"x\": 1")).contains("missing \"output\""))
        XCTAssertTrue(error(mathRecipe.replacingOccurrences(of: "\"heads\": 4", with: "\"heads\": 5")).contains("heads × an even head size"))
        XCTAssertTrue(error(mathRecipe.replacingOccurrences(of: "\"arithmetic\"", with: "\"poetry\"")).contains("data.kind"))
        XCTAssertTrue(error(mathRecipe.replacingOccurrences(of: "\"steps\": 10", with: "\"steps\": \"ten\"")).contains("training.steps"))
        XCTAssertThrowsError(try TrainingRecipe.load(folder.appendingPathComponent("absent.json")))
    }

    func testTextRecipeLearnsABPEVocabularyAndLowersTheLoss() throws {
        var story = ""
        var rng = SeededRandom(seed: 3)
        let names = ["Tom", "Lily", "Ben", "Mia"], things = ["ball", "cat", "tree", "cake"]
        for _ in 0..<300 {
            story += "\(names[Int(rng.next() % 4)]) saw a \(things[Int(rng.next() % 4)]). It was happy.\n<|endoftext|>\n"
        }
        try story.write(to: folder.appendingPathComponent("corpus.txt"), atomically: true, encoding: .utf8)
        let recipe = try TrainingRecipe.load(try writeRecipe("""
            { "name": "s", "data": { "kind": "text", "file": "corpus.txt", "validationFraction": 0.1 },
              "tokenizer": { "kind": "bpe", "vocabulary": 300 },
              "model": { "embedding": 32, "layers": 1, "heads": 2, "feedForward": 64, "context": 16 },
              "training": { "steps": 40, "batch": 8, "learningRate": 0.01, "seed": 1 }, "output": "s.gguf", "exportType": "f16" }
            """))
        let trainer = try Trainer(recipe: recipe)
        XCTAssertGreaterThan(trainer.vocabulary.count, 257)
        let before = trainer.measureValidation()
        while !trainer.isFinished { trainer.trainStep() }
        let after = trainer.measureValidation()
        XCTAssertLessThan(after, before * 0.6, "40 steps on a repetitive corpus: validation \(before) → \(after)")
        try trainer.export()
        let model = try ModelLoader.load(url: recipe.outputURL, threads: 1)
        XCTAssertEqual(model.config.vocabulary, trainer.vocabulary.count)
        XCTAssertEqual(model.gguf.tensor(named: "blk.0.attn_q.weight")?.type, .f16)
    }
}
