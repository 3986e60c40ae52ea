import XCTest

/// The REPL in a real pseudo-terminal: history, Tab completion, Ctrl-C, leaving.
final class TerminalTests: XCTestCase {
    func testPromptHistoryCompletionAndCtrlC() throws {
        let t = try TerminalSession()
        try t.waitFor("the prompt") { $0.hasSuffix("lab>") }

        // A command runs and prints.
        try t.type("set seed 5"); try t.keys("Enter")
        try t.waitForText("seed = 5 (user)")

        // Up recalls it onto the prompt line.
        try t.keys("Up")
        try t.waitFor("recalled line") { $0.hasSuffix("lab> set seed 5") }

        // Ctrl-C clears the line and gives a fresh prompt; nothing ran.
        try t.keys("C-c")
        try t.waitFor("cleared line") { $0.hasSuffix("lab> set seed 5^C\nlab>") }
        XCTAssertEqual(try t.count("seed = 5 (user)"), 1)

        // A second Ctrl-C on the empty line says how to leave.
        try t.keys("C-c")
        try t.waitForText("(to leave, press Ctrl-D or type 'quit')")

        // Tab completes a command name, and then its argument.
        try t.type("sho"); try t.keys("Tab")
        try t.waitFor("completed command") { $0.hasSuffix("lab> show") }
        try t.type("set"); try t.keys("Tab")
        try t.waitFor("completed argument") { $0.hasSuffix("lab> show settings") }
        try t.keys("Enter")
        try t.waitForText("temperature")

        // UTF-8 typed at the prompt arrives intact.
        try t.type("/naïve"); try t.keys("Enter")
        try t.waitForText("error: unknown command '/naïve'")

        // quit leaves with status 0, and the history file holds the commands.
        try t.type("quit"); try t.keys("Enter")
        try t.waitForText("[exited] 0")
        let history = try String(contentsOf: t.home.appendingPathComponent("history"), encoding: .utf8)
        XCTAssertTrue(history.contains("set\\040seed\\0405"), history)
        XCTAssertTrue(history.contains("quit"), history)
    }

    func testHistoryPersistsAcrossSessionsAndCtrlDLeaves() throws {
        let first = try TerminalSession()
        try first.waitFor("prompt") { $0.hasSuffix("lab>") }
        try first.type("set top_k 7"); try first.keys("Enter")
        try first.waitForText("top_k = 7 (user)")
        try first.keys("C-d")
        try first.waitForText("[exited] 0")

        // A new process with the same LMLAB_HOME recalls the line with Up.
        let second = try TerminalSession(environment: ["LMLAB_HOME": first.home.path])
        try second.waitFor("prompt") { $0.hasSuffix("lab>") }
        try second.keys("Up")
        try second.waitFor("recalled from the file") { $0.hasSuffix("lab> set top_k 7") }
        try second.keys("C-u"); try second.type("quit"); try second.keys("Enter")
        try second.waitForText("[exited] 0")
    }

    func testMultiLineBlockAtThePrompt() throws {
        let t = try TerminalSession()
        try t.waitFor("prompt") { $0.hasSuffix("lab>") }
        try t.type("help \"\"\""); try t.keys("Enter")
        try t.waitFor("continuation prompt") { $0.hasSuffix("...>") }
        try t.type("set"); try t.keys("Enter")
        try t.type("\"\"\""); try t.keys("Enter")
        try t.waitForText("set KEY VALUE | set KEY default")
    }
}

extension TerminalTests {
    /// Ctrl-C during a running command stops it and returns to the prompt;
    /// the lab stays usable.
    func testCtrlCInterruptsGeneration() throws {
        let model = try LabPaths.smollm2
        let t = try TerminalSession(width: 200)   // the stats line must not wrap
        try t.waitFor("prompt") { $0.hasSuffix("lab>") }
        try t.type("load \(model.path)"); try t.keys("Enter")
        try t.waitForText("load time")
        try t.type("gen Once upon a time --max 100000 --temp 0.8"); try t.keys("Enter")
        let command = "lab> gen Once upon a time --max 100000 --temp 0.8\n"
        try t.waitFor("streaming text", timeout: 30) { screen in
            guard let r = screen.range(of: command) else { return false }
            return screen[r.upperBound...].count > 60
        }
        try t.keys("C-c")
        let screen = try t.waitFor("the stats line and a new prompt", timeout: 30) {
            $0.contains("stopped: interrupted") && $0.hasSuffix("lab>")
        }
        XCTAssertFalse(screen.contains("error:"), screen)
        try t.type("set seed 3"); try t.keys("Enter")
        try t.waitForText("seed = 3 (user)")
    }

    func testClosingTheTerminalEndsTheLabWithoutACrash() throws {
        // The terminal goes away while the lab waits at its prompt: reading
        // gives end of input, and the newline written after it fails (EIO).
        // The lab used to trap on that failed write (FileHandle.write(_:)).
        let status = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-status-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: status) }
        let t = try TerminalSession(exitStatusFile: status)
        try t.waitFor("the prompt") { $0.hasSuffix("lab>") }
        try t.type("set seed 5"); try t.keys("Enter")
        try t.waitForText("seed = 5")
        try t.closeTerminal()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? String(contentsOf: status, encoding: .utf8))?.hasSuffix("\n") != true { usleep(50_000) }
        XCTAssertEqual(try String(contentsOf: status, encoding: .utf8), "0\n", "the lab's exit status once its terminal is gone")
    }
}
