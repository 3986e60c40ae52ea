import Foundation
import XCTest

/// Where the lab's tests find the package, its files and the real models: one place
/// for every test class.
///
/// Real models are pulled by `make test` into the ignored models/ folder. A test that needs
/// one skips when it is absent, unless LMLAB_REQUIRE_MODELS=1 (set by `make test`), where it
/// fails instead: the full suite never passes without having run on the real models.
enum LabPaths {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A file of the repository, e.g. "workloads/arithmetic.jsonl".
    static func file(_ relative: String) -> URL { packageRoot.appendingPathComponent(relative) }

    /// models/FILE, or a skip (a failure under LMLAB_REQUIRE_MODELS=1) when it isn't there.
    static func model(_ file: String) throws -> URL {
        let url = packageRoot.appendingPathComponent("models/" + file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if ProcessInfo.processInfo.environment["LMLAB_REQUIRE_MODELS"] == "1" { XCTFail("models/\(file) is missing") }
            throw XCTSkip("models/\(file) not fetched (make test fetches it)")
        }
        return url
    }

    static var smollm2: URL { get throws { try model("SmolLM2-135M-Instruct.Q4_1.gguf") } }
    static var gemma3: URL { get throws { try model("gemma-3-270m-q4_k_m.gguf") } }
}
