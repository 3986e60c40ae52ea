import Foundation
import XCTest
import LMLab
import LMEngine

/// train, eval, train-tokenizer and distill through the same entry the REPL uses.
final class TrainCommandTests: XCTestCase {
    var folder: URL!
    let packageRoot = LabPaths.packageRoot

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func session(_ interrupt: Interrupt = Interrupt()) -> Session {
        Session(console: .capturing(), interrupt: interrupt, home: folder)
    }

    func writeMathRecipe(steps: Int) throws -> URL {
        let url = folder.appendingPathComponent("math.json")
        try """
            { "name": "math-test", "data": { "kind": "arithmetic", "maxOperand": 10 },
              "tokenizer": { "kind": "characters", "characters": "0123456789+-=" },
              "model": { "embedding": 32, "layers": 2, "heads": 4, "feedForward": 64, "context": 8 },
              "training": { "steps": \(steps), "batch": 32, "learningRate": 0.01, "warmup": 5, "seed": 2, "evalEvery": 10 },
              "output": "math.gguf", "samplePrompts": ["3+4="] }
            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// A tiny model trained for 30 steps, as the teacher of the distill tests (fast; the real one is SmolLM2).
    func trainedTeacher() throws -> String {
        let recipe = try writeMathRecipe(steps: 30)
        XCTAssertTrue(session().run("train \(recipe.path)"))
        return folder.appendingPathComponent("math.gguf").path
    }

    func testTrainPrintsLossesExportsAModelTheLabLoads() throws {
        let recipe = try writeMathRecipe(steps: 60)
        let s = session()
        XCTAssertTrue(s.run("train \(recipe.path)"), s.console.capturedErrors)
        let out = s.console.captured
        XCTAssertTrue(out.contains("before training:") && out.contains("after training:"), out)
        XCTAssertTrue(out.contains("step 10/60") && out.contains("step 60/60"), "plain progress lines off a terminal:\n\(out)")
        XCTAssertFalse(out.contains("\u{1B}["), "no escape codes off a terminal")
        // The final line's figures: training loss fell from about ln(14).
        let summary = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("trained math-test") })
        let finalLoss = try XCTUnwrap(Double(summary.components(separatedBy: "final loss ")[1].prefix(6)))
        XCTAssertLessThan(finalLoss, 1.6, "60 steps of one-digit sums (start ≈ 2.6): \(summary)")

        let model = folder.appendingPathComponent("math.gguf")
        XCTAssertTrue(s.run("load \(model.path)"), s.console.capturedErrors)
        XCTAssertTrue(s.run("gen 3+4= --temp 0 --max 3"), s.console.capturedErrors)
        // The checkpoint goes to the lab's folder (the session's home here), not beside the model.
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("checkpoints/math-test.ckpt").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".cache").path))
    }

    func testCtrlCSavesACheckpointAndResumeContinues() throws {
        // A command starts with the interrupt cleared, so Ctrl-C is pressed from another
        // thread, over and over, until the run stops: it must stop long before a million steps.
        let recipe = try writeMathRecipe(steps: 1_000_000)
        let interrupt = Interrupt(), finished = Interrupt()
        DispatchQueue.global().async { while !finished.isSet { interrupt.set(); usleep(2_000) } }
        let s = session(interrupt)
        let ran = s.run("train \(recipe.path)")
        finished.set()
        XCTAssertFalse(ran)
        let out = s.console.captured
        let line = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("stopped at step ") }, out)
        let step = try XCTUnwrap(Int(line.dropFirst("stopped at step ".count).prefix { $0.isNumber }), String(line))
        XCTAssertTrue(line.contains("of 1000000; checkpoint saved"), String(line))
        XCTAssertTrue(out.contains("--resume"))
        let again = session()
        XCTAssertTrue(again.run("train \(recipe.path) --resume --steps \(step + 20)"), again.console.capturedErrors)
        XCTAssertTrue(again.console.captured.contains("resumed math-test at step \(step) "), again.console.captured)
        XCTAssertTrue(again.console.captured.contains("trained math-test: \(step + 20) steps"), again.console.captured)
    }

    func testBadInputGetsOneLineErrors() throws {
        let s = session()
        XCTAssertFalse(s.run("train"))
        XCTAssertFalse(s.run("train \(folder.appendingPathComponent("nope.json").path)"))
        XCTAssertTrue(s.console.capturedErrors.contains("bad recipe: can't read"), s.console.capturedErrors)
        XCTAssertFalse(s.run("train \(try writeMathRecipe(steps: 5).path) --steps 0"))
        XCTAssertFalse(s.run("eval tiny-math"))
        XCTAssertTrue(s.console.capturedErrors.contains("--task arithmetic"))
        XCTAssertFalse(s.run("eval tiny-math --task poetry"))
        XCTAssertTrue(s.console.capturedErrors.contains("unknown task 'poetry'"))
        XCTAssertFalse(s.run("train-tokenizer \(folder.path)/absent.txt --vocab 300"))
        XCTAssertFalse(s.run("distill tiny-math --tokens 10 --out x.txt"))
        XCTAssertTrue(s.console.capturedErrors.contains("--prompts FILE"))
        XCTAssertEqual(s.console.capturedErrors.split(separator: "\n").count, 7, "one line per error:\n\(s.console.capturedErrors)")
    }

    func testTrainTokenizerWritesAVocabularyTheEngineLoads() throws {
        let text = folder.appendingPathComponent("t.txt")
        try String(repeating: "the cat and the dog play in the sun.\n", count: 40).write(to: text, atomically: true, encoding: .utf8)
        let s = session()
        // Into a folder not made yet: the GGUF writer makes it.
        let out = folder.appendingPathComponent("new/t.tokenizer.gguf")
        XCTAssertTrue(s.run("train-tokenizer \(text.path) --vocab 300 --out \(out.path)"), s.console.capturedErrors)
        // Every word of this text fits in fewer than 43 merges, so the trainer stops early and says so.
        XCTAssertTrue(s.console.captured.contains("no pair of tokens occurs twice"), s.console.captured)
        let gguf = try GGUFFile(url: out)
        let tokenizer = try TokenizerFactory.make(from: gguf)
        XCTAssertTrue(s.console.captured.contains("learned \(tokenizer.vocabularySize) tokens (\(tokenizer.vocabularySize - 257) merges)"),
                      s.console.captured)
        let ids = tokenizer.encode("the cat and the dog", addBOS: false, parseSpecial: false)
        XCTAssertEqual(tokenizer.decode(ids), "the cat and the dog")
        XCTAssertEqual(ids.count, 5, "each word of the text is one token")
        XCTAssertEqual(tokenizer.encode("zebra", addBOS: false, parseSpecial: false).count, 5, "unseen: one token per byte")
    }

    func testDistillWritesWholeDocumentsAndContinues() throws {
        let teacher = try trainedTeacher()
        let prompts = folder.appendingPathComponent("p.txt")
        try "# sums\n1+2=\n5-3=\n".write(to: prompts, atomically: true, encoding: .utf8)
        // Into folders not made yet, as lesson 6 writes into a fresh ~/.lmlab.
        let corpus = folder.appendingPathComponent("new/deeper/c.txt")
        let s = session()
        XCTAssertTrue(s.run("distill \(teacher) --prompts \(prompts.path) --tokens 4 --out \(corpus.path) --temp 0"), s.console.capturedErrors)
        let first = try String(contentsOf: corpus, encoding: .utf8)
        XCTAssertTrue(first.hasSuffix("\n<|endoftext|>\n"), first)
        let firstCount = first.components(separatedBy: "<|endoftext|>").count - 1
        XCTAssertGreaterThan(firstCount, 0)
        XCTAssertTrue(s.run("distill \(teacher) --prompts \(prompts.path) --tokens 12 --out \(corpus.path) --temp 0"), s.console.capturedErrors)
        XCTAssertTrue(s.console.captured.contains("continuing"), s.console.captured)
        let second = try String(contentsOf: corpus, encoding: .utf8)
        XCTAssertTrue(second.hasPrefix(first), "a continued corpus keeps what was there")
        XCTAssertGreaterThan(second.components(separatedBy: "<|endoftext|>").count - 1, firstCount)
    }

    func testTheSameRunWritesTheSameCheckpointBytes() throws {
        // Training is deterministic for a seed, so its checkpoint should be too. Separate
        // processes, because an unsorted JSON encoder's key order changes with each
        // process's hash seed (it did: the header's keys are sorted now).
        let recipe = try writeMathRecipe(steps: 20)
        var checkpoints: [Data] = []
        for _ in 0..<3 {
            let result = try BinaryRunner.run(["-c", "train \(recipe.path)"], environment: ["LMLAB_HOME": folder.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            checkpoints.append(try Data(contentsOf: folder.appendingPathComponent("checkpoints/math-test.ckpt")))
        }
        XCTAssertGreaterThan(checkpoints[0].count, 1000)
        XCTAssertEqual(checkpoints[1], checkpoints[0])
        XCTAssertEqual(checkpoints[2], checkpoints[0])
    }

    func testDistillWithSeveralWorkersWritesTheSameCorpus() throws {
        // Sampling at temperature 1 makes every document depend on its own seed, so a
        // worker that took the wrong index, or a document written out of order, shows.
        let teacher = try trainedTeacher()
        let prompts = folder.appendingPathComponent("p.txt")
        try "1+2=\n5-3=\n7+\n".write(to: prompts, atomically: true, encoding: .utf8)
        var corpora: [String] = []
        for workers in [1, 2, 3] {
            let corpus = folder.appendingPathComponent("c\(workers).txt")
            let s = session()
            XCTAssertTrue(s.run("distill \(teacher) --prompts \(prompts.path) --tokens 60 --out \(corpus.path) --temp 1 --max 12 --workers \(workers)"),
                          s.console.capturedErrors)
            corpora.append(try String(contentsOf: corpus, encoding: .utf8))
        }
        XCTAssertGreaterThan(corpora[0].components(separatedBy: "<|endoftext|>").count - 1, 4)
        XCTAssertEqual(corpora[1], corpora[0], "2 workers")
        XCTAssertEqual(corpora[2], corpora[0], "3 workers")
        // Continuing with another number of workers picks up at the same document.
        let continued = folder.appendingPathComponent("c1.txt")
        let s = session()
        XCTAssertTrue(s.run("distill \(teacher) --prompts \(prompts.path) --tokens 120 --out \(continued.path) --temp 1 --max 12 --workers 2"))
        let whole = folder.appendingPathComponent("whole.txt")
        XCTAssertTrue(session().run("distill \(teacher) --prompts \(prompts.path) --tokens 120 --out \(whole.path) --temp 1 --max 12"))
        XCTAssertEqual(try String(contentsOf: continued, encoding: .utf8), try String(contentsOf: whole, encoding: .utf8))
    }

    /// The shipped model, loaded by name through the catalogue, keeps its measured
    /// score on a held-out slice: 194/200 (97.0%, models/tiny-math.md), above the
    /// issue's 95% target, which is the bound here: a retrained model that falls
    /// below the target fails this test rather than quietly replacing a better one.
    func testShippedTinyMathScoresOnHeldOutProblems() throws {
        guard FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent("models/tiny-math.gguf").path) else {
            return XCTFail("models/tiny-math.gguf is committed with the repository and should be here")
        }
        let s = session()
        XCTAssertTrue(s.run("eval tiny-math --task arithmetic --count 200 --json"), s.console.capturedErrors)
        struct Report: Decodable { let count: Int; let correct: Int; let accuracy: Double; let shots: Int }
        let report = try JSONDecoder().decode(Report.self, from: Data(s.console.captured.utf8))
        XCTAssertEqual(report.count, 200)
        XCTAssertEqual(report.shots, 0, "lmlab's own models get the bare prompt")
        XCTAssertGreaterThanOrEqual(report.accuracy, 0.95, "\(report.correct)/200")
        XCTAssertTrue(s.run("load tiny-math"), s.console.capturedErrors)
    }
}
