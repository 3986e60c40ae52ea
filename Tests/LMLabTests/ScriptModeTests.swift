import XCTest

/// The three non-interactive ways in, through the real binary.
final class ScriptModeTests: XCTestCase {
    func testDashCRunsCommandsAndPrintsGroupedHelp() throws {
        let r = try BinaryRunner.run(["-c", "help"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("Session\n"), r.stdout)
        XCTAssertFalse(r.stdout.contains("\u{1B}["), "no ANSI colour when stdout is a pipe")
        XCTAssertFalse(r.stdout.contains("lab> "), "no prompt in non-interactive runs")
    }

    func testUnknownCommandFailsWithDidYouMeanOnStderr() throws {
        let r = try BinaryRunner.run(["-c", "nosuch"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.hasPrefix("error: unknown command 'nosuch'"), r.stderr)
        let typo = try BinaryRunner.run(["-c", "shwo settings"])
        XCTAssertEqual(typo.status, 1)
        XCTAssertEqual(typo.stderr, "error: unknown command 'shwo' — did you mean 'show'?\n")
    }

    func testStopsAtFirstFailingCommand() throws {
        let r = try BinaryRunner.run(["-c", "set seed 3; set seed nine; show settings"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "seed = 3 (user)\n", "the command after the failure did not run")
        XCTAssertEqual(r.stderr, "error: seed expects a whole number, got 'nine'\n")
    }

    func testScriptFileWithCommentsAndBlocks() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-test.lab")
        try """
        # a comment line
        set seed 11

        help \"\"\"
        set
        \"\"\"
        """.write(to: script, atomically: true, encoding: .utf8)
        let r = try BinaryRunner.run(["run", script.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("seed = 11 (user)\nset KEY VALUE"), r.stdout)
        let missing = try BinaryRunner.run(["run", "/nonexistent/x.lab"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "error: can't read script '/nonexistent/x.lab'\n")
    }

    func testPipedStdinBehavesLikeAScript() throws {
        let r = try BinaryRunner.run([], stdin: "set top_k 5\nset top_k 0.5\nhelp\n")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "top_k = 5 (user)\n")
        XCTAssertEqual(r.stderr, "error: top_k expects a whole number, got '0.5'\n")
    }

    func testNoColourOffATerminalOrWithNoColor() throws {
        for env in [[:], ["NO_COLOR": "1"]] {
            let r = try BinaryRunner.run(["-c", "show settings"], environment: env)
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdout.contains("temperature"))
            XCTAssertFalse(r.stdout.contains("\u{1B}["))
        }
        let on = try BinaryRunner.run(["-c", "set color on"])
        XCTAssertEqual(on.stderr, "error: color must be one of auto, off, got 'on'\n")
    }

    func testHelpAndVersionFlags() throws {
        let v = try BinaryRunner.run(["--version"])
        XCTAssertEqual(v.status, 0)
        XCTAssertTrue(v.stdout.hasPrefix("0."), v.stdout)
        let h = try BinaryRunner.run(["--help"])
        XCTAssertEqual(h.status, 0)
        XCTAssertTrue(h.stdout.contains("-c <c>") || h.stdout.contains("-c"), h.stdout)
        XCTAssertTrue(h.stdout.contains("lmlab run"), h.stdout)
    }
}
