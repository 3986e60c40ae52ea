import Foundation
import XCTest
import LMLab

/// `load api:`: a real `lmlab serve` on loopback, and a second lab (a process, or a session
/// in this one) that holds its model beside local ones. The tiny models keep it quick:
/// the same file served and loaded locally must give the same greedy text and the same
/// cascade answers, and every way an API fails is one line after which the lab goes on.
final class APIModelTests: XCTestCase {
    static let key = "api-test-key-\(UInt32.random(in: 0...UInt32.max))"
    static let serverKeyVariable = "LMLAB_API_TEST_SERVER_KEY"
    static let clientKeyVariable = "LMLAB_API_TEST_CLIENT_KEY"

    override class func setUp() {
        super.setUp()
        // The in-process sessions read the key from the environment, as the lab does.
        setenv(clientKeyVariable, key, 1)
        setenv("LMLAB_API_TEST_WRONG_KEY", "not-the-key", 1)
    }

    func serve(_ models: [String]) throws -> ServerProcess {
        try ServerProcess(models + ["--api-key-env", Self.serverKeyVariable], environment: [Self.serverKeyVariable: Self.key])
    }

    func session() -> Session {
        Session(console: .capturing(), interrupt: Interrupt(), home: FileManager.default.temporaryDirectory)
    }

    /// The last line of a run's output as a JSON object.
    func lastJSON(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
            XCTFail("not a JSON object: \(last)", file: file, line: line)
            return [:]
        }
        return object
    }

    func testGenOverTheAPIGivesTheLocalGreedyText() throws {
        let server = try serve(["tiny-stories"])
        defer { server.stop() }
        let gen = "gen Once upon a time --temp 0 --max 20 --json"
        let local = try BinaryRunner.run(["-c", "load tiny-stories; \(gen)"])
        XCTAssertEqual(local.status, 0, local.stderr)
        let remote = try BinaryRunner.run(["-c", "load api:\(server.baseURL)#tiny-stories --key-env \(Self.clientKeyVariable); \(gen)"],
                                          environment: [Self.clientKeyVariable: Self.key])
        XCTAssertEqual(remote.status, 0, remote.stderr)
        let l = try lastJSON(local.stdout), r = try lastJSON(remote.stdout)
        let text = try XCTUnwrap(l["text"] as? String)
        XCTAssertFalse(text.isEmpty)
        XCTAssertEqual(r["text"] as? String, text, "the served model's greedy text differs from the local one's")
        XCTAssertEqual(r["prompt_tokens"] as? Int, l["prompt_tokens"] as? Int)
        XCTAssertEqual(r["new_tokens"] as? Int, l["new_tokens"] as? Int)
        XCTAssertNotNil(r["time_to_first_token_s"] as? Double)
        XCTAssertGreaterThan(r["round_trip_s"] as? Double ?? 0, 0)
        XCTAssertTrue(remote.stdout.contains("loaded tiny-stories: API model 'tiny-stories' at \(server.baseURL)"), remote.stdout)

        // Streamed, the text comes first and the measured figures after it.
        let streamed = try BinaryRunner.run(["-c", "load api:\(server.baseURL)#tiny-stories as remote --key-env \(Self.clientKeyVariable); "
                                             + "gen Once upon a time --temp 0 --max 20"],
                                            environment: [Self.clientKeyVariable: Self.key])
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        XCTAssertTrue(streamed.stdout.contains(text), streamed.stdout)
        for figure in ["round trip", "first token", "tok/s after it", "measured over the API", "(server's usage)"] {
            XCTAssertTrue(streamed.stdout.contains(figure), "no '\(figure)' in: \(streamed.stdout)")
        }
        for output in [remote.stdout, remote.stderr, streamed.stdout, streamed.stderr] {
            XCTAssertFalse(output.contains(Self.key), "the lab printed the API key")
        }
    }

    func testCascadeWithAnAPITierGivesTheAllLocalAnswers() throws {
        let server = try serve(["tiny-smol"])
        defer { server.stop() }
        let run = "cascade run --workload arithmetic --limit 6 --no-cache --json"
        let local = try BinaryRunner.run(["-c", "load tiny-math; load tiny-smol; \(run) --tiers tiny-math,tiny-smol"])
        XCTAssertEqual(local.status, 0, local.stderr)
        let remote = try BinaryRunner.run(["-c", "load tiny-math; load api:\(server.baseURL)#tiny-smol as smol-api "
                                           + "--key-env \(Self.clientKeyVariable); \(run) --tiers tiny-math,smol-api"],
                                          environment: [Self.clientKeyVariable: Self.key])
        XCTAssertEqual(remote.status, 0, remote.stderr)
        let l = try lastJSON(local.stdout), r = try lastJSON(remote.stdout)
        let localItems = try XCTUnwrap(l["items"] as? [[String: Any]]), remoteItems = try XCTUnwrap(r["items"] as? [[String: Any]])
        XCTAssertEqual(localItems.count, 6)
        XCTAssertEqual(remoteItems.count, 6)
        for (a, b) in zip(localItems, remoteItems) {
            XCTAssertEqual(a["answers"] as? [String], b["answers"] as? [String], "item \(a["id"] ?? "?")")
            XCTAssertEqual(a["correct"] as? [Bool], b["correct"] as? [Bool], "item \(a["id"] ?? "?")")
            // The API tier's tokens are the server's usage: the same prompt, the same count.
            XCTAssertEqual((a["tokens_in"] as? [Int])?.last, (b["tokens_in"] as? [Int])?.last, "item \(a["id"] ?? "?")")
            // Its confidence comes from the logprobs the server returned.
            let confidence = (b["confidence"] as? [[String: Double]])?.last
            XCTAssertNotNil(confidence?["mean"], "item \(b["id"] ?? "?")")
            XCTAssertTrue(confidence?["mean"]?.isFinite == true, "no logprobs used for item \(b["id"] ?? "?"): \(String(describing: confidence))")
        }
        XCTAssertEqual(r["answers_failed"] as? Int, 0)
        let figures = r["figures"] as? [String: String]
        XCTAssertEqual(figures?["smol-api"], "latency: measured over the API; cost: the server's usage × the tier's prices")
    }

    func testEachFailureIsOneLineAndTheLabGoesOn() throws {
        let server = try serve(["tiny-stories"])
        let s = session()
        var failures = 0
        func refused(_ line: String, _ message: String) {
            XCTAssertFalse(s.run(line), line)
            failures += 1
            let errors = s.console.capturedErrors.split(separator: "\n")
            XCTAssertEqual(errors.count, failures, s.console.capturedErrors)
            XCTAssertTrue(errors.last?.contains(message) == true, "expected '\(message)', got: \(errors.last ?? "")")
        }
        refused("load api:\(server.baseURL)#tiny-stories --key-env LMLAB_API_TEST_WRONG_KEY", "refused the key (401)")
        refused("load api:\(server.baseURL)#tiny-stories", "refused the key (401)")
        refused("load api:\(server.baseURL)#no-such-model --key-env \(Self.clientKeyVariable)", "has no model 'no-such-model'")
        // Port 1 on loopback: nothing listens there.
        refused("load api:http://127.0.0.1:1/v1#tiny-stories --timeout 5", "can't reach http://127.0.0.1:1/v1 (connection refused)")
        refused("load api:\(server.baseURL)#tiny-stories --key-env LMLAB_API_TEST_UNSET", "LMLAB_API_TEST_UNSET (--key-env) is not set")
        refused("load api:\(server.baseURL)", "names no model")
        refused("load api:ftp://127.0.0.1/v1#x", "is not an http:// or https:// URL")
        XCTAssertTrue(s.models.names.isEmpty, "\(s.models.names)")

        // The lab goes on: a good load, a local model beside it, and a cascade over both.
        XCTAssertTrue(s.run("load tiny-math"), s.console.capturedErrors)
        XCTAssertTrue(s.run("load api:\(server.baseURL)#tiny-stories as remote --key-env \(Self.clientKeyVariable)"), s.console.capturedErrors)
        XCTAssertEqual(s.models.names, ["tiny-math", "remote"])
        XCTAssertFalse(s.run("lens Once upon a time"))
        XCTAssertTrue(s.console.capturedErrors.contains("remote is an API model"), s.console.capturedErrors)
        failures += 1
        XCTAssertTrue(s.run("cascade tier remote price_in=1 price_out=2"), s.console.capturedErrors)
        XCTAssertTrue(s.console.captured.contains("API"), s.console.captured)

        // The server goes away mid-session: each call fails in one line, the run goes on and counts them.
        server.stop()
        XCTAssertTrue(s.run("cascade run --workload arithmetic --limit 3 --tiers tiny-math,remote --no-cache"), s.console.capturedErrors)
        let cascadeErrors = s.console.capturedErrors.split(separator: "\n").dropFirst(failures)
        XCTAssertEqual(cascadeErrors.count, 3, s.console.capturedErrors)
        XCTAssertTrue(cascadeErrors.allSatisfy { $0.contains("counted as unanswered by remote") && $0.contains("can't reach") },
                      s.console.capturedErrors)
        XCTAssertTrue(s.console.captured.contains("3 API calls failed"), s.console.captured)
        XCTAssertFalse(s.run("gen Once upon a time --max 4"))
        XCTAssertTrue(s.console.capturedErrors.split(separator: "\n").last?.contains("remote: can't reach") == true, s.console.capturedErrors)
        XCTAssertTrue(s.run("use tiny-math"), s.console.capturedErrors)
        XCTAssertTrue(s.run("gen 1+1= --max 2 --temp 0"), s.console.capturedErrors)
        XCTAssertFalse(s.console.captured.contains(Self.key) || s.console.capturedErrors.contains(Self.key), "the lab printed the API key")
    }

    func testEveryKindOfServerFailureIsOneLineAndCounted() throws {
        let bad = try MisbehavingServer()
        defer { bad.stop() }
        let s = session()
        XCTAssertTrue(s.run("load tiny-math"), s.console.capturedErrors)
        for model in ["garbage", "drop", "slow", "busy", "broken", "nologprobs"] {
            XCTAssertTrue(s.run("load api:\(bad.baseURL)#\(model) --timeout 1"), s.console.capturedErrors)
        }
        for (model, message) in [("garbage", "streamed something that is not a completion chunk"),
                                 ("drop", "ended the stream mid-answer"),
                                 ("slow", "did not answer within 1 s"),
                                 ("busy", "is rate-limiting (429): slow down"),
                                 ("broken", "failed (500): it broke")] {
            s.console.reset()
            XCTAssertTrue(s.run("cascade run --workload arithmetic --limit 2 --tiers tiny-math,\(model) --no-cache"),
                          "\(model): \(s.console.capturedErrors)")
            let lines = s.console.capturedErrors.split(separator: "\n")
            XCTAssertEqual(lines.count, 2, "\(model): \(s.console.capturedErrors)")
            XCTAssertTrue(lines.allSatisfy { $0.contains(message) && $0.hasSuffix("counted as unanswered by \(model)") },
                          "\(model): \(s.console.capturedErrors)")
            XCTAssertTrue(s.console.captured.contains("2 API calls failed"), "\(model): \(s.console.captured)")
            XCTAssertTrue(s.console.captured.contains("\(model) could not take 2 of 2 items (2 API calls failed)"), "\(model): \(s.console.captured)")
        }
        // A server without logprobs: its answers are there, but nothing says how sure it was.
        s.console.reset()
        XCTAssertTrue(s.run("cascade run --workload arithmetic --limit 2 --tiers nologprobs,tiny-math --no-cache"), s.console.capturedErrors)
        XCTAssertTrue(s.console.captured.contains("nologprobs's server returned no token logprobs for 2 of 2 answers"), s.console.captured)
        XCTAssertTrue(s.console.captured.contains("usable only as the last tier"), s.console.captured)
        XCTAssertTrue(s.console.capturedErrors.isEmpty, s.console.capturedErrors)
        // gen on a stream that drops: what came is shown, then one error line.
        s.console.reset()
        XCTAssertTrue(s.run("use drop"))
        XCTAssertFalse(s.run("gen 6 + 3 ="))
        XCTAssertEqual(s.console.capturedErrors, "error: drop: \(bad.baseURL) ended the stream mid-answer (no finish_reason, no [DONE])\n")
        XCTAssertTrue(s.console.captured.contains("9"), s.console.captured)
    }
}

/// Tests/python/misbehaving_server.py on a free loopback port: one way of failing per model id.
final class MisbehavingServer {
    let process = Process()
    private let input = Pipe(), output = Pipe()
    private(set) var port = 0

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", BinaryRunner.packageRoot.appendingPathComponent("Tests/python/misbehaving_server.py").path]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let p = Int(line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").last ?? "") else {
            process.terminate()
            throw NSError(domain: "MisbehavingServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "did not start: \(line)"])
        }
        port = p
    }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit { if process.isRunning { process.terminate() } }
}
