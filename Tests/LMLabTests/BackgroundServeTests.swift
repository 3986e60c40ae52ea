import Foundation
import XCTest
import LMLab

/// `serve --background` (lesson 9's server): a second lab process serves SmolLM2, the lab
/// reaches it as an API model over loopback, the added distance shows in the measured round
/// trip, the log holds what the server received, and the server ends with `serve stop` or
/// with the lab that started it.
final class BackgroundServeTests: XCTestCase {
    /// The pid in "from a second lab process (pid N)".
    static func serverPID(_ output: String) throws -> pid_t {
        let r = try XCTUnwrap(output.range(of: #"second lab process \(pid [0-9]+\)"#, options: .regularExpression), output)
        return try XCTUnwrap(pid_t(output[r].filter(\.isNumber)))
    }

    /// Alive and not a zombie waiting for its parent to reap it.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    func testTheServedModelWritesTheSameWordsFartherAway() throws {
        _ = try LabPaths.smollm2
        let prompt = "The sea at night is"
        let r = try BinaryRunner.run(["-c", """
            load smollm2; gen "\(prompt)" --temp 0 --max 12 --json; \
            serve smollm2 --background --delay 120 --show-prompts; use smollm2-api; \
            gen "\(prompt)" --temp 0 --max 12 --json; serve log 20; serve stop; models --loaded
            """], environment: ["NO_COLOR": "1"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let objects = r.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(objects.count, 2, r.stdout)
        guard objects.count == 2 else { return }
        let local = objects[0], served = objects[1]
        XCTAssertEqual(local["text"] as? String, served["text"] as? String, "greedy text over HTTP differs from the text in process")
        XCTAssertEqual(served["new_tokens"] as? Int, 12)
        XCTAssertEqual(served["prompt_tokens"] as? Int, local["prompt_tokens"] as? Int)
        // The added distance is in every request: the ping's round trip and the first token.
        let roundTrip = try XCTUnwrap(served["round_trip_s"] as? Double)
        let firstToken = try XCTUnwrap(served["time_to_first_token_s"] as? Double)
        XCTAssertGreaterThanOrEqual(roundTrip, 0.120)
        XCTAssertLessThan(roundTrip, 2)
        XCTAssertGreaterThanOrEqual(firstToken, 0.120)
        // The server's log holds the prompt as it arrived, and its byte count.
        XCTAssertTrue(r.stdout.contains("received for smollm2 (\(prompt.utf8.count) bytes of text): \(prompt)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("completion (stream) smollm2"), r.stdout)
        // `serve stop` ends the process and forgets the API model.
        let pid = try Self.serverPID(r.stdout)
        XCTAssertTrue(r.stdout.contains("stopped the server at http://127.0.0.1:"), r.stdout)
        XCTAssertTrue(r.stdout.contains("unloaded smollm2-api"), r.stdout)
        XCTAssertFalse(Self.isRunning(pid), "the background server still runs after serve stop")
        let afterStop = try XCTUnwrap(r.stdout.components(separatedBy: "unloaded smollm2-api").last)
        XCTAssertTrue(afterStop.contains("smollm2"), afterStop)
        XCTAssertFalse(afterStop.contains("smollm2-api"), "models --loaded still lists the API model after serve stop:\n" + afterStop)
    }

    /// `next` on an API model: the server's top_logprobs for one token, the same pieces and
    /// probabilities as the local `next` over the same weights; --temp and K > 20 refused in one line.
    func testNextOverTheAPIListsTheLocalDistribution() throws {
        _ = try LabPaths.smollm2
        let r = try BinaryRunner.run(["-c", """
            load smollm2; next "The capital of France is" 5 --json; serve smollm2 --background;             use smollm2-api; next "The capital of France is" 5 --json; next "The capital of France is" 5
            """], environment: ["NO_COLOR": "1"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let objects = r.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(objects.count, 2, r.stdout)
        guard objects.count == 2 else { return }
        let local = try XCTUnwrap(objects[0]["top"] as? [[String: Any]])
        let served = try XCTUnwrap(objects[1]["top"] as? [[String: Any]])
        XCTAssertEqual(local.count, 5)
        XCTAssertEqual(local.compactMap { $0["piece"] as? String }, served.compactMap { $0["piece"] as? String })
        for (a, b) in zip(local, served) {
            XCTAssertEqual(try XCTUnwrap(a["probability"] as? Double), try XCTUnwrap(b["probability"] as? Double), accuracy: 1e-4)
        }
        XCTAssertTrue(r.stdout.contains("entropy of the listed tokens"), r.stdout)
        for (line, message) in [("next hello --temp 2", "error: --temp re-scales the logits; smollm2-api is an API model"),
                                ("next hello 21", "error: K must be between 1 and 20 for an API model")] {
            let bad = try BinaryRunner.run(["-c", "load smollm2; serve smollm2 --background; use smollm2-api; " + line],
                                           environment: ["NO_COLOR": "1"])
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.stderr.hasPrefix(message), bad.stderr)
        }
    }

    /// A lab that ends without `serve stop` takes its server with it (the server watches its parent).
    func testTheServerEndsWithTheLab() throws {
        _ = try LabPaths.smollm2
        let r = try BinaryRunner.run(["-c", "load smollm2; serve smollm2 --background"], environment: ["NO_COLOR": "1"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let pid = try Self.serverPID(r.stdout)
        let deadline = Date().addingTimeInterval(5)
        while Self.isRunning(pid) && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(Self.isRunning(pid), "the background server outlived the lab that started it")
    }

    func testServeStopAndLogWithoutAServerSayWhy() throws {
        for line in ["serve stop", "serve log"] {
            let r = try BinaryRunner.run(["-c", line], environment: ["NO_COLOR": "1"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.stderr, "error: no background server runs (start one: serve MODEL --background)\n")
        }
    }

    func testVerdictNumbersGroupThousands() throws {
        let figures: [String: Double] = ["bill": 75373.4, "year": 2026, "small": -12345.678, "tiny": 0.000021]
        func render(_ text: String) throws -> String? { try Verdict.parse(": " + text).render { figures[$0] } }
        XCTAssertEqual(try render("${bill:0} a year"), "$75,373 a year")
        XCTAssertEqual(try render("{year}"), "2026")
        XCTAssertEqual(try render("{small:2}"), "-12,345.68")
        XCTAssertEqual(try render("{bill * 1000:0}"), "75,373,400")
        XCTAssertEqual(try render("{tiny:6}"), "0.000021")
    }
}
