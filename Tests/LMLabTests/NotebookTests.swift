import Foundation
import LMLab
import XCTest

/// The notebook format: parsing with file:line errors, checks, saving a session
/// as Markdown and Jupyter, replaying it with `open`.
final class NotebookTests: XCTestCase {
    let parser = NotebookParser(knownCommands: ["show", "set", "gen", "tokens", "help"])

    func testParsesFrontMatterCellsChecksAndOutput() throws {
        let text = """
        ---
        title: Demo
        minutes: 7
        needs: smollm2, gemma3
        ---
        # Demo
        Some prose.

        ```lab
        # a comment
        set seed 3
        gen \"\"\"two
        lines\"\"\" --max 2
        expect: /seed/i
        expect: decode_tps >= 1.5
        ```
        ```output
        seed = 3
        ```
        More prose with a code block:
        ```text
        not run
        ```
        """
        let nb = try parser.parse(text, source: "demo.md")
        XCTAssertEqual(nb.title, "Demo")
        XCTAssertEqual(nb.minutes, 7)
        XCTAssertEqual(nb.needs, ["smollm2", "gemma3"])
        XCTAssertEqual(nb.cells.count, 1)
        let cell = nb.cells[0]
        XCTAssertEqual(cell.commands.map(\.text), ["set seed 3", "gen \"\"\"two\nlines\"\"\" --max 2"])
        XCTAssertEqual(cell.commands.map(\.number), [11, 12])
        XCTAssertEqual(cell.line, 9)
        XCTAssertEqual(cell.checks.map(\.description), ["/seed/i", "decode_tps >= 1.5"])
        XCTAssertEqual(cell.output, "seed = 3")
        XCTAssertEqual(nb.steps.count, 2)
        XCTAssertTrue(nb.steps[1].prose.contains("not run"))
    }

    func testMalformedNotebooksNameFileAndLine() {
        func error(_ text: String) -> String {
            do { _ = try parser.parse(text, source: "lessons/99-bad.md"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("prose\n\n```lab\nshow settings\n"),
                       "lessons/99-bad.md:3: the ``` fence opened here is never closed")
        XCTAssertEqual(error("```lab\nshow settings\nfly away\n```"),
                       "lessons/99-bad.md:3: unknown command 'fly' in a lab cell")
        XCTAssertEqual(error("x\n```lab\nshow settings\nexpect: /unclosed\n```"),
                       "lessons/99-bad.md:4: bad expect: expected /REGEX/ with a closing slash, got '/unclosed'")
        XCTAssertEqual(error("```lab\nshow settings\nexpect: speed fast\n```"),
                       "lessons/99-bad.md:3: bad expect: expected /REGEX/, !/REGEX/ or FIGURE OP NUMBER|FIGURE (OP one of > >= < <= == !=), got 'speed fast'")
        XCTAssertEqual(error("```lab\nshow settings\nexpect: ppl < 1x\n```"),
                       "lessons/99-bad.md:3: bad expect: unexpected 'x' in '1x'")
        XCTAssertEqual(error("```lab\nshow settings\nverdict: {a +}\n```"),
                       "lessons/99-bad.md:3: bad verdict: an expression ends where a number or figure name was expected")
        XCTAssertEqual(error("```lab\nshow settings\nkeep: 2x = ppl\n```"),
                       "lessons/99-bad.md:3: bad keep: '2x' is not a figure name (letters, digits and _)")
        XCTAssertEqual(error("```lab\nshow settings\ncapture: n seed\n```"),
                       "lessons/99-bad.md:3: bad capture: expected 'NAME /REGEX/' or 'NAME ?/REGEX/', got 'n seed'")
        XCTAssertEqual(error("---\ntitle: x\n"), "lessons/99-bad.md:1: front matter opened with '---' is never closed")
        XCTAssertEqual(error("text\n```output\nx\n```"), "lessons/99-bad.md:2: an output block must follow a lab cell")
        XCTAssertEqual(error("```lab\n# only a comment\n```"), "lessons/99-bad.md:1: a lab cell without commands")
    }

    func testChecksHoldAndFailWithReasons() throws {
        let figures = Figures()
        figures["decode_tps"] = 120
        let output = "The capital of France is Paris."
        XCTAssertNil(try Check.parse("/Paris/").failure(output: output, figures: figures))
        XCTAssertNil(try Check.parse("/paris/i").failure(output: output, figures: figures))
        XCTAssertEqual(try Check.parse("/paris/").failure(output: output, figures: figures), "the output doesn't match /paris/")
        XCTAssertEqual(try Check.parse("!/France/").failure(output: output, figures: figures),
                       "the output matches /France/, which it should not")
        XCTAssertNil(try Check.parse("decode_tps > 100").failure(output: output, figures: figures))
        XCTAssertEqual(try Check.parse("decode_tps<=100").failure(output: output, figures: figures),
                       "decode_tps is 120, not <= 100")
        figures["first_loss"] = 5.5
        figures["final_loss"] = 2.25
        XCTAssertNil(try Check.parse("final_loss < first_loss").failure(output: output, figures: figures))
        XCTAssertEqual(try Check.parse("first_loss < final_loss").failure(output: output, figures: figures),
                       "first_loss is 5.5, not < final_loss (2.25)")
        figures.clear()
        figures["decode_tps"] = 120
        XCTAssertEqual(try Check.parse("ppl < 30").failure(output: output, figures: figures),
                       "no figure 'ppl' was measured in this cell (measured: decode_tps)")
    }

    func testExpressionsCompareFiguresAndKeptOnes() throws {
        let figures = Figures()
        figures["tg_tps"] = 20
        figures.keep("smol_tg", 50)
        let e = try FigureExpression.parse("(smol_tg - tg_tps) / tg_tps * 100 + 2 ^ 3")
        XCTAssertEqual(e.value { figures[$0] }, 158)
        XCTAssertEqual(try FigureExpression.parse("-smol_tg / 0").value { figures[$0] }, nil, "division by zero has no value")
        XCTAssertNil(try Check.parse("smol_tg / tg_tps > 2").failure(output: "", figures: figures))
        XCTAssertEqual(try Check.parse("smol_tg / tg_tps > 3").failure(output: "", figures: figures),
                       "smol_tg / tg_tps is 2.5, not > 3")
        figures.clear()
        XCTAssertEqual(figures["smol_tg"], 50, "kept figures outlive the cell")
        XCTAssertEqual(try Check.parse("tg_tps > 0").failure(output: "", figures: figures), "no figure 'tg_tps' was measured in this cell")
        figures.clearKept()
        XCTAssertNil(figures["smol_tg"])
    }

    func testChecksAndCapturesReadTheTextWithoutColour() throws {
        let coloured = "the \u{1B}[38;5;46mcat\u{1B}[0m sat · APGR \u{1B}[1m0.565\u{1B}[0m"
        XCTAssertNil(try Check.parse("/the cat sat/").failure(output: coloured, figures: Figures()))
        let apgr = try Capture.parse("apgr /APGR ([0-9.]+)/")
        XCTAssertEqual(try apgr.value(in: coloured).get(), 0.565)
        XCTAssertEqual(try Capture.parse("cat ?/cat sat/").value(in: coloured).get(), 1)
        XCTAssertEqual(try Capture.parse("dog ?/dog/").value(in: coloured).get(), 0)
        guard case .failure(let e) = try Capture.parse("x /nothing ([0-9]+)/").value(in: coloured) else { return XCTFail("matched nothing") }
        XCTAssertEqual(e.description, "capture x: the output doesn't match /nothing ([0-9]+)/")
    }

    func testVerdictsFillHolesAndHoldTheirConditions() throws {
        let f: [String: Double] = ["smol_tg": 50, "gemma_tg": 20]
        let lookup = { (n: String) in f[n] }
        XCTAssertEqual(try Verdict.parse(": gemma3 is {smol_tg / gemma_tg:1}× slower ({gemma_tg} tok/s)").render(lookup),
                       "gemma3 is 2.5× slower (20 tok/s)")
        XCTAssertNil(try Verdict.parse(" if gemma_tg > smol_tg: faster").render(lookup))
        XCTAssertEqual(try Verdict.parse(" if gemma_tg < smol_tg: slower").render(lookup), "slower")
        XCTAssertNil(try Verdict.parse(" if missing > 0: never").render(lookup), "a condition on an unmeasured figure does not hold")
        XCTAssertEqual(try Verdict.parse(": ppl {ppl:1}").render(lookup), "ppl ?", "an unmeasured figure is never invented")
        XCTAssertThrowsError(try Verdict.parse(": {smol_tg:9}"))
    }

    /// A cell runs its commands, then captures, keeps, checks and verdicts — and a check
    /// that disagrees with the measurement fails the lesson.
    func testACellJudgesWhatItMeasured() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-cell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.md"), bad = folder.appendingPathComponent("bad.md")
        try """
        ```lab
        look: the seed
        set seed 31
        capture: seed /seed = ([0-9]+)/
        keep: seed_kept = seed * 2
        expect: seed_kept == 62
        verdict: the seed doubled is {seed_kept}
        verdict if seed_kept < 0: never shown
        ```
        """.write(to: good, atomically: true, encoding: .utf8)
        try "```lab\nset seed 5\ncapture: seed /seed = ([0-9]+)/\nexpect: seed > seed_kept\n```\n".write(to: bad, atomically: true, encoding: .utf8)
        let session = Session(console: .capturing(), home: folder)
        XCTAssertTrue(session.run("open \(good.path) --run"), session.console.capturedErrors)
        let out = session.console.captured
        XCTAssertTrue(out.contains("look for: the seed"), out)
        XCTAssertTrue(out.contains("⇒ the seed doubled is 62"), out)
        XCTAssertFalse(out.contains("never shown"), out)
        XCTAssertEqual(session.figures.kept["seed_kept"], 62)
        // A check that disagrees with what was measured (here: with a figure kept by the cell before) fails.
        XCTAssertFalse(session.run("open \(bad.path) --run"))
        XCTAssertTrue(session.console.capturedErrors.contains("check 'seed > seed_kept' failed: seed is 5, not > seed_kept (62)"),
                      session.console.capturedErrors)
    }

    func testSaveCardWritesTheDrillAnswers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-card-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let session = Session(console: .capturing(), home: folder)
        XCTAssertFalse(session.run("save card $LMLAB_HOME/card.md"))
        XCTAssertTrue(session.console.capturedErrors.contains("no drill answers yet: play 'lesson 10' first"), session.console.capturedErrors)
        session.drillAnswers = [("Device or API?", "device: offline", "first token after 130 ms"), ("Q2_K?", "", "4.97 bits per weight")]
        XCTAssertTrue(session.run("save card $LMLAB_HOME/card.md"), session.console.capturedErrors)
        let card = try String(contentsOf: folder.appendingPathComponent("card.md"), encoding: .utf8)
        XCTAssertTrue(card.contains("## 1. Device or API?\n\n**Your answer:** device: offline"), card)
        XCTAssertTrue(card.contains("**Sketch from your numbers:** first token after 130 ms"), card)
        XCTAssertTrue(card.contains("## 2. Q2_K?\n\n**Your answer:** _(none given)_"), card)
    }

    func testResetClearsCachesScratchAndKeptFigures() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-reset-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let fm = FileManager.default
        try fm.createDirectory(at: home.appendingPathComponent("cascade-cache"), withIntermediateDirectories: true)
        try Data(count: 2048).write(to: home.appendingPathComponent("cascade-cache/answers.json"))
        try fm.createDirectory(at: home.appendingPathComponent("scratch"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: home.appendingPathComponent("scratch/lesson-06-corpus.txt"))
        try Data("7.4".utf8).write(to: home.appendingPathComponent("bandwidth-2t.txt"))
        try Data("load smollm2\n".utf8).write(to: home.appendingPathComponent("history"))
        let session = Session(console: .capturing(), home: home)
        session.figures.keep("smol_tg", 50)
        XCTAssertTrue(session.run("reset"), session.console.capturedErrors)
        let out = session.console.captured
        XCTAssertTrue(out.contains(home.appendingPathComponent("cascade-cache").path + " (2.0 KiB)"), out)
        XCTAssertTrue(out.contains("scratch"), out)
        XCTAssertTrue(out.contains("bandwidth-2t.txt"), out)
        XCTAssertTrue(out.contains("forgot 1 kept figure and 0 drill answers"), out)
        XCTAssertFalse(fm.fileExists(atPath: home.appendingPathComponent("cascade-cache").path))
        XCTAssertFalse(fm.fileExists(atPath: home.appendingPathComponent("scratch").path))
        XCTAssertTrue(fm.fileExists(atPath: home.appendingPathComponent("history").path), "the history stays")
        session.console.reset()
        XCTAssertTrue(session.run("reset"))
        XCTAssertTrue(session.console.captured.hasPrefix("nothing to remove under \(home.path)"), session.console.captured)
        XCTAssertFalse(session.run("reset now"))
    }

    func testLabHomeInTypedPaths() {
        let home = URL(fileURLWithPath: "/tmp/lab-home")
        XCTAssertEqual(LabPath.url("$LMLAB_HOME/scratch/a.txt", home: home).path, "/tmp/lab-home/scratch/a.txt")
        XCTAssertEqual(LabPath.url("$LMLAB_HOME", home: home).path, "/tmp/lab-home")
        XCTAssertEqual(LabPath.url("/x/$LMLAB_HOME", home: home).path, "/x/$LMLAB_HOME")
    }

    func testTranscriptKeepsCommandsThatSucceeded() throws {
        let session = Session(console: .capturing())
        XCTAssertTrue(session.run("set seed 11"))
        XCTAssertTrue(session.run("help \"\"\"set\"\"\""))
        XCTAssertFalse(session.run("set seed banana"))          // failures are not saved
        XCTAssertEqual(session.transcript.entries.map(\.command), ["set seed 11", "help \"\"\"set\"\"\""])
        XCTAssertTrue(session.transcript.entries[0].output.contains("seed = 11"))
    }

    func testSaveOpenAndJupyter() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-nb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let md = dir.appendingPathComponent("s.md").path, nb = dir.appendingPathComponent("s.ipynb").path
        let saved = try BinaryRunner.run(["-c", "set seed 11; set top_k 5; show settings; save \(md); save \(nb)"])
        XCTAssertEqual(saved.status, 0, saved.stderr)
        XCTAssertTrue(saved.stdout.contains("saved 3 commands with their output to \(md)"), saved.stdout)

        // The Markdown replays: the same commands run again and print again.
        let text = try String(contentsOfFile: md, encoding: .utf8)
        XCTAssertTrue(text.contains("```lab\nset top_k 5\n```\n```output\ntop_k = 5 (user)"), text)
        let replay = try BinaryRunner.run(["-c", "open \(md)"])
        XCTAssertEqual(replay.status, 0, replay.stderr)
        XCTAssertTrue(replay.stdout.contains("lab> set top_k 5\ntop_k = 5 (user)"), replay.stdout)
        XCTAssertTrue(replay.stdout.contains("every cell ran"), replay.stdout)

        // The Jupyter file has nbformat 4's structure…
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: nb))) as! [String: Any]
        XCTAssertEqual(json["nbformat"] as? Int, 4)
        XCTAssertEqual(json["nbformat_minor"] as? Int, 5)
        let metadata = try XCTUnwrap(json["metadata"] as? [String: Any])
        XCTAssertNotNil(metadata["kernelspec"] as? [String: Any])
        let cells = try XCTUnwrap(json["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.map { $0["cell_type"] as? String }, ["markdown", "code", "code", "code"])
        XCTAssertEqual(Set(cells.compactMap { $0["id"] as? String }).count, cells.count, "cell ids must be unique")
        let third = cells[2]
        XCTAssertEqual(third["source"] as? [String], ["set top_k 5"])
        XCTAssertEqual(third["execution_count"] as? Int, 2)
        let outputs = try XCTUnwrap(third["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.first?["output_type"] as? String, "stream")
        XCTAssertEqual((outputs.first?["text"] as? [String])?.joined(), "top_k = 5 (user)\n")
        // …and Jupyter's own validator accepts it.
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')", nb]
        let out = Pipe(); check.standardOutput = out; check.standardError = out
        try check.run(); check.waitUntilExit()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if said.contains("No module named 'nbformat'") {
            throw XCTSkip("python3 has no nbformat (make test installs it); the structure was checked above")
        }
        XCTAssertEqual(check.terminationStatus, 0, said)
        XCTAssertTrue(said.contains("valid"), said)
    }

    func testSaveAndOpenErrors() throws {
        let r1 = try BinaryRunner.run(["-c", "save /tmp/nothing.md"])
        XCTAssertEqual(r1.stderr, "error: nothing to save yet: no command has run in this session\n")
        let r2 = try BinaryRunner.run(["-c", "show settings; save /tmp/x.txt"])
        XCTAssertEqual(r2.stderr, "error: save writes .md (lesson format), .ipynb (Jupyter) or .gguf (the model); got '/tmp/x.txt'\n")
        let r3 = try BinaryRunner.run(["-c", "show settings; save /no/such/dir/x.md"])
        XCTAssertTrue(r3.stderr.hasPrefix("error: can't write '/no/such/dir/x.md'"), r3.stderr)
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-bad-\(UUID().uuidString).md")
        try "# Bad\n\n```lab\nshow settings\nexpect: /never printed/\n```\n".write(to: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: bad) }
        let r4 = try BinaryRunner.run(["-c", "open \(bad.path)"])
        XCTAssertEqual(r4.status, 1)
        XCTAssertEqual(r4.stderr, "error: \(bad.path):3: check '/never printed/' failed: the output doesn't match /never printed/\n")
        let r5 = try BinaryRunner.run(["-c", "open /no/such.md"])
        XCTAssertEqual(r5.stderr, "error: can't read '/no/such.md'\n")
    }
}
