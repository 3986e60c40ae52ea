import Foundation
import XCTest
import LMLab

/// Lessons: every shipped lesson runs and passes its checks, and playing one
/// in a real pseudo-terminal pauses before each cell.
final class LessonPlayerTests: XCTestCase {
    static let lessonsFolder = BinaryRunner.packageRoot.appendingPathComponent("lessons")

    /// Every lesson, start to end, as `lmlab lesson N --run` — so lessons never rot.
    func testEveryShippedLessonRunsAndItsChecksHold() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: LessonPlayerTests.lessonsFolder.path)
            .filter { $0.hasSuffix(".md") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 1, "no lessons in lessons/")
        for file in files {
            let number = String(Int(file.prefix { $0.isNumber }) ?? -1)
            let r = try BinaryRunner.run(["lesson", number, "--run"], environment: ["NO_COLOR": "1"])
            XCTAssertEqual(r.status, 0, "lesson \(file) failed:\n\(r.stderr)\n--- output ---\n\(r.stdout.suffix(3000))")
            XCTAssertTrue(r.stdout.contains("every cell ran and every check held"), file)
        }
    }

    /// Every lesson again, in a real 150-column terminal with colour on (as a student
    /// runs it): the checks read the text without its colour codes, no check fails, and
    /// every unconditional verdict appears with each hole filled by a number (a figure
    /// the cell didn't measure shows as "?", which fails here). It shares the --run
    /// test's lab folder, so answers and bandwidth that lessons cache are reused.
    func testEveryShippedLessonRunsInAColourTerminal() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: LessonPlayerTests.lessonsFolder.path)
            .filter { $0.hasSuffix(".md") }.sorted()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-test-home").path
        for file in files {
            let number = String(Int(file.prefix { $0.isNumber }) ?? -1)
            let t = try TerminalSession(arguments: ["lesson", number, "--run"], width: 150, height: 50,
                                        environment: ["NO_COLOR": "", "LMLAB_HOME": home])
            try t.waitFor("lesson \(file) to finish", timeout: 1200, every: 1) { $0.contains("[exited]") }
            let transcript = try t.transcript()
            let tail = String(transcript.suffix(3000))
            XCTAssertTrue(transcript.contains("every cell ran and every check held"), "\(file):\n\(tail)")
            XCTAssertTrue(transcript.contains("[exited] 0"), "\(file):\n\(tail)")
            XCTAssertFalse(transcript.contains("✗"), "\(file): a check failed:\n\(tail)")
            let text = try String(contentsOf: LessonPlayerTests.lessonsFolder.appendingPathComponent(file), encoding: .utf8)
            for verdict in LessonPlayerTests.unconditionalVerdicts(text) {
                let pattern = LessonPlayerTests.pattern(forVerdict: verdict)
                XCTAssertNotNil(transcript.range(of: pattern, options: .regularExpression),
                                "\(file): no line reads '⇒ \(verdict)' with numbers in its holes")
            }
        }
    }

    /// A lesson's prose and tables in real terminals 80 and 150 columns wide: paragraphs
    /// wrap between words at the width (up to 100 columns), and a table too wide for the
    /// terminal cuts its widest text column with … — nothing is left for the terminal to
    /// wrap, which would split words and rows.
    func testALessonFitsTheTerminalsWidth() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-width-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sentence = "Decoding one token reads every weight the token passes through, once. "
        try """
        # Widths

        \(String(repeating: sentence, count: 6))

        | step | what happens |
        |---|---|
        | decode | \(String(repeating: sentence, count: 3)) |
        | prefill | 32 |

        ```lab
        set seed 31
        ```
        """.write(to: folder.appendingPathComponent("01-widths.md"), atomically: true, encoding: .utf8)
        for width in [80, 150] {
            let t = try TerminalSession(arguments: ["lesson", "1", "--run"], width: width, height: 50,
                                        environment: ["LMLAB_LESSONS": folder.path, "NO_COLOR": ""])
            try t.waitForText("[exited] 0", timeout: 60)
            // -J joins what the terminal wrapped: a line wider than the terminal is one it wrapped.
            let lines = try t.transcript().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let underline = lines.firstIndex(where: { $0.hasPrefix("═") }),
                  let header = lines.firstIndex(where: { $0.hasPrefix("step") }) else {
                return XCTFail("no heading or table at \(width) columns:\n\(lines.joined(separator: "\n"))")
            }
            let paragraph = lines[(underline + 1)..<header].filter { !$0.isEmpty }
            XCTAssertGreaterThan(paragraph.count, 1, "the paragraph wraps, at \(width) columns")
            for line in paragraph {
                XCTAssertLessThanOrEqual(TextUtil.displayWidth(line), min(width, 100), "at \(width) columns: '\(line)'")
            }
            XCTAssertGreaterThan(paragraph.map(TextUtil.displayWidth).max() ?? 0, width == 80 ? 70 : 88,
                                 "prose fills the terminal (up to 100 columns), at \(width) columns")
            XCTAssertEqual(paragraph.joined(separator: " ").split(separator: " "),
                           String(repeating: sentence, count: 6).split(separator: " "), "every word whole, at \(width)")
            let row = lines.first { $0.hasPrefix("decode") } ?? ""
            XCTAssertEqual(TextUtil.displayWidth(row), width, "the cut row fills the terminal: '\(row)'")
            XCTAssertTrue(row.hasPrefix("decode   Decoding one token") && row.hasSuffix("…"), "the cut row: '\(row)'")
            XCTAssertTrue(lines.contains("prefill  32"), "the short row stays whole")
        }
    }

    /// The text of every `verdict:` line of a lesson (not `verdict if`, which may rightly stay silent).
    static func unconditionalVerdicts(_ lesson: String) -> [String] {
        lesson.split(separator: "\n").compactMap { line in
            line.hasPrefix("verdict:") ? line.dropFirst("verdict:".count).trimmingCharacters(in: .whitespaces) : nil
        }
    }

    /// `gemma3 decodes {a / b:1}× slower` → a regular expression for the printed line:
    /// the text as written, each hole a number.
    static func pattern(forVerdict verdict: String) -> String {
        var out = "⇒ "
        var rest = Substring(verdict)
        while let open = rest.firstIndex(of: "{") {
            out += NSRegularExpression.escapedPattern(for: String(rest[..<open]))
            guard let close = rest[open...].firstIndex(of: "}") else { rest = rest[open...]; break }   // the parser refuses these
            out += "-?[0-9][0-9.,e+-]*"
            rest = rest[rest.index(after: close)...]
        }
        return out + NSRegularExpression.escapedPattern(for: String(rest))
    }

    func testLessonsListsTheShippedLessons() throws {
        let r = try BinaryRunner.run(["-c", "lessons"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let count = try FileManager.default.contentsOfDirectory(atPath: LessonPlayerTests.lessonsFolder.path).filter { $0.hasSuffix(".md") }.count
        let rows = r.stdout.split(separator: "\n").filter { $0.drop { $0 == " " }.first?.isNumber == true }
        XCTAssertEqual(rows.count, count, r.stdout)
        let bad = try BinaryRunner.run(["-c", "lesson 999"])
        XCTAssertTrue(bad.stderr.hasPrefix("error: no lesson 999 — there are lessons "), bad.stderr)
    }

    func testPlayingALessonInATerminal() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-lessons-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        ---
        title: Pausing
        minutes: 1
        ---
        # Pausing

        First we set the seed.

        ```lab
        set seed 31
        expect: /seed = 31/
        ```

        Then we look at the settings.

        ```lab
        show settings
        ```

        Last, a cell we will never reach.

        ```lab
        set seed 77
        ```
        """.write(to: folder.appendingPathComponent("01-pausing.md"), atomically: true, encoding: .utf8)
        let t = try TerminalSession(arguments: ["lesson", "1"], width: 120, environment: ["LMLAB_LESSONS": folder.path])
        try t.waitForText("First we set the seed.")
        try t.waitFor("the pause before cell 1") { $0.hasSuffix("or type a command:") }
        XCTAssertEqual(try t.count("seed = 31"), 0, "a cell must not run before Enter")

        try t.keys("Enter")                                   // Enter runs the cell…
        try t.waitForText("seed = 31 (user)")
        try t.waitForText("✓ expect: /seed = 31/")
        try t.waitForText("Then we look at the settings.")    // …and moves on to the next one

        try t.type("set top_k 9"); try t.keys("Enter")        // any command runs between cells
        try t.waitForText("top_k = 9 (user)")
        try t.keys("Enter")
        try t.waitFor("settings shown with the new top_k") { $0.contains("top_k") && $0.contains("user") && $0.contains("Last, a cell") }

        try t.type("quit"); try t.keys("Enter")               // quit leaves the lesson, not the lab
        try t.waitForText("Left the lesson.")
        try t.waitFor("the lab prompt") { $0.hasSuffix("lab>") }
        XCTAssertEqual(try t.count("seed = 77"), 0)
        try t.type("quit"); try t.keys("Enter")
        try t.waitForText("[exited] 0")
    }

    /// Lesson 1 in a real 150-column terminal, colour on: the probability colours get a
    /// legend and the checks read the text without colour codes (a `/p=/` check failed here).
    func testLessonOneRunsInAColourTerminal() throws {
        // NO_COLOR empty counts as unset; the test runner's own environment may set it.
        let t = try TerminalSession(arguments: ["lesson", "1", "--run"], width: 150, height: 50, environment: ["NO_COLOR": ""])
        try t.waitFor("lesson 1 to finish", timeout: 120) { $0.contains("[exited]") }
        try t.waitForText("every cell ran and every check held")
        try t.waitForText("probability: 0.0 0.2 0.4 0.6 0.8 1.0 (red: the model was guessing")
        try t.waitForText("⇒ the least sure token had p = ")
        try t.waitForText("[exited] 0")
    }

    /// The drill in a real terminal: the question waits for an answer, the verdict
    /// reveals the sketch, and `save card` writes both.
    func testADrillAsksWaitsAndSavesTheCard() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-drill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        # Drill

        ```lab
        ask: Which seed do you pick?
        set seed 31
        capture: seed /seed = ([0-9]+)/
        verdict: Sketch: the lab measured seed {seed}.
        ```
        """.write(to: folder.appendingPathComponent("01-drill.md"), atomically: true, encoding: .utf8)
        let t = try TerminalSession(arguments: ["lesson", "1"], width: 150, environment: ["LMLAB_LESSONS": folder.path])
        try t.waitFor("the pause before the cell") { $0.hasSuffix("or type a command:") }
        try t.keys("Enter")
        try t.waitFor("the question, waiting") { $0.contains("? Which seed do you pick?") && $0.hasSuffix("your answer (Enter when done)>") }
        XCTAssertEqual(try t.count("Sketch:"), 0, "the sketch must wait for the answer")
        try t.type("thirty-one"); try t.keys("Enter")
        try t.waitForText("⇒ Sketch: the lab measured seed 31.")
        try t.waitFor("the lab prompt") { $0.hasSuffix("lab>") }
        let card = t.home.appendingPathComponent("card.md")
        try t.type("save card \(card.path)"); try t.keys("Enter")
        try t.waitForText("saved a card of 1 answer")
        let text = try String(contentsOf: card, encoding: .utf8)
        XCTAssertTrue(text.contains("**Your answer:** thirty-one"), text)
        XCTAssertTrue(text.contains("**Sketch from your numbers:** Sketch: the lab measured seed 31."), text)
        try t.type("quit"); try t.keys("Enter")
        try t.waitForText("[exited] 0")
    }
}
