import Foundation
import XCTest

/// Ctrl-C during `cascade run`, in a real terminal: the run stops, reports over
/// the items answered so far, and the lab stays usable — `cascade explain`
/// walks those partial results, and the next command works.
final class CascadeInterruptTests: XCTestCase {
    func testCtrlCDuringCascadeRunKeepsThePartialResults() throws {
        let smollm2 = try MultiModelTests.smollm2, gemma3 = try MultiModelTests.gemma3
        let workload = BinaryRunner.packageRoot.appendingPathComponent("workloads/mixed.jsonl").path
        let t = try TerminalSession(width: 200, height: 50)
        try t.waitFor("the prompt") { $0.hasSuffix("lab>") }
        for path in [smollm2.path, gemma3.path] {
            let load = "load \(path) --context 256"
            try t.type(load); try t.keys("Enter")
            try t.waitFor("'\(load)' to finish", timeout: 60) { screen in
                guard let r = screen.range(of: "lab> " + load, options: .backwards) else { return false }
                return screen[r.upperBound...].contains("load time") && screen.hasSuffix("lab>")
            }
        }
        // --no-cache: every answer is computed, so the run takes minutes and is caught in the act.
        let line = "cascade run --workload \(workload) --no-cache"
        try t.type(line); try t.keys("Enter")
        // Wait for three whole items (two answers each), then Ctrl-C.
        try t.waitFor("six answers", timeout: 120) { screen in
            guard let r = screen.range(of: #"(\d+)/440 answers"#, options: [.regularExpression, .backwards]) else { return false }
            return Int(screen[r].split(separator: "/")[0]).map { $0 >= 6 } ?? false
        }
        try t.keys("C-c")
        try t.waitFor("the prompt after Ctrl-C", timeout: 60) { $0.hasSuffix("lab>") && $0.contains("target: ") }
        // The report scrolls past the screen: read the whole history.
        let history = try t.tmux(["capture-pane", "-t", t.name, "-p", "-S", "-"])
        let stopped = try XCTUnwrap(history.range(of: #"stopped by Ctrl-C: partial results over the (\d+) of 220 items answered"#,
                                                  options: .regularExpression), history)
        let answered = try XCTUnwrap(Int(history[stopped].split(separator: " ")[7]), String(history[stopped]))
        XCTAssertGreaterThanOrEqual(answered, 3)
        XCTAssertLessThan(answered, 220)
        XCTAssertTrue(history.contains("workload mixed: 220 items"), history)
        XCTAssertFalse(history.contains("error: interrupted"), "partial results, not an error")

        // The partial run is the last run: explain knows exactly the items answered.
        try t.type("cascade explain \(answered + 1)"); try t.keys("Enter")
        try t.waitForText("error: N must be between 1 and \(answered), got \(answered + 1)", timeout: 30)
        try t.type("cascade explain 1"); try t.keys("Enter")
        try t.waitFor("item 1 explained", timeout: 30) { $0.contains("item 1 of \(answered) · ") && $0.hasSuffix("lab>") }
        try t.type("set seed 3"); try t.keys("Enter")
        try t.waitFor("the next command", timeout: 30) { $0.contains("seed = 3 (user)") && $0.hasSuffix("lab>") }
    }
}
