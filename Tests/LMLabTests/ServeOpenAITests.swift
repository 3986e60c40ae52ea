import Foundation
import XCTest

/// `lmlab serve` against the official `openai` Python client on loopback, with the real SmolLM2:
/// models, a completion, a chat, a streamed chat with logprobs (checked against the lab's own
/// `gen --json --probs`), stop strings, a wrong key, an unknown model, malformed bodies,
/// /tokenize and /detokenize (Tests/python/test_openai_client.py holds the checks).
final class ServeOpenAITests: XCTestCase {
    static let key = "test-key-\(UInt32.random(in: 0...UInt32.max))"

    func requirements() throws {
        let smol = BinaryRunner.packageRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        let require = ProcessInfo.processInfo.environment["LMLAB_REQUIRE_MODELS"] == "1"
        guard FileManager.default.fileExists(atPath: smol.path) else {
            if require { XCTFail("SmolLM2 is missing") }
            throw XCTSkip("models/SmolLM2-135M-Instruct.Q4_1.gguf not fetched (make test fetches it)")
        }
        guard PythonRunner.hasModule("openai") else {
            if require { XCTFail("python3's openai package is missing (scripts/setup.sh --test installs it)") }
            throw XCTSkip("python3 -m pip install openai to run the OpenAI client tests")
        }
    }

    func testOfficialClientAgainstServe() throws {
        try requirements()
        let server = try ServerProcess(["smollm2", "--api-key-env", "LMLAB_SERVE_TEST_KEY"],
                                       environment: ["LMLAB_SERVE_TEST_KEY": Self.key])
        let result = try PythonRunner.run("Tests/python/test_openai_client.py", environment: [
            "LMLAB_BASE_URL": server.baseURL, "LMLAB_TEST_KEY": Self.key, "LMLAB_BIN": BinaryRunner.lmlab.path,
        ])
        let (status, log) = server.stop()
        XCTAssertEqual(result.status, 0, result.output + "\n--- server log ---\n" + log)
        XCTAssertTrue(result.output.contains("all checks passed"), result.output)
        XCTAssertEqual(status, 0, log)
        XCTAssertTrue(log.contains("server stopped"), log)
        // The key is never printed.
        XCTAssertFalse(log.contains(Self.key), "the server printed its API key")
        XCTAssertTrue(log.contains("(API key required)"), log)
    }

    /// A small bounded load: 4 clients × 3 requests against a queue of 2, so some are refused.
    /// Every request is answered (200) or refused (503 with Retry-After), none lost, and the
    /// server exits cleanly on Ctrl-C (scripts/serve_load.py checks all that and exits 1 otherwise).
    /// The full run, with figures, is `python3 scripts/serve_load.py` (BENCHMARKS.md).
    func testBoundedLoadLosesNoRequest() throws {
        try requirements()
        let result = try PythonRunner.run("scripts/serve_load.py", arguments: [
            "--bin", BinaryRunner.lmlab.path, "--clients", "4", "--requests", "3", "--queue", "2",
            "--max-tokens", "8", "--json",
        ], environment: [:])
        XCTAssertEqual(result.status, 0, result.output)
        let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let figures = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        XCTAssertEqual(figures["sent"] as? Int, 12, result.output)
        XCTAssertEqual(figures["lost"] as? Int, 0, result.output)
        XCTAssertEqual((figures["answered"] as? Int ?? 0) + (figures["refused_503"] as? Int ?? 0), 12, result.output)
        XCTAssertGreaterThan(figures["answered"] as? Int ?? 0, 0, result.output)
    }
}
