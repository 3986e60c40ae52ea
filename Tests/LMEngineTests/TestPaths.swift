import Foundation
import XCTest

/// Where the suite finds its fixtures and the real models.
///
/// Real models are pulled by `make test` (`lmlab -c "pull smollm2; pull gemma3"`) into the
/// ignored models/ folder. A test that needs one skips when it is absent,
/// unless LMLAB_REQUIRE_MODELS=1 (set by `make test`), where it fails instead:
/// the full suite never passes without having run on the real model.
enum TestPaths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    static let models = packageRoot.appendingPathComponent("models")
    /// ../shared, present for developers and CI only.
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

    static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }

    static func model(_ file: String) throws -> URL {
        let url = models.appendingPathComponent(file)
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if ProcessInfo.processInfo.environment["LMLAB_REQUIRE_MODELS"] == "1" {
            XCTFail("models/\(file) is missing: `make models` pulls it (make test does)")
        }
        throw XCTSkip("models/\(file) not fetched; run `make test` to fetch it")
    }

    static var smollm2: URL { get throws { try model("SmolLM2-135M-Instruct.Q4_1.gguf") } }

    static func sharedFile(_ relative: String) throws -> URL {
        let url = shared.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("../shared/\(relative) is absent (it exists for developers and CI only)")
        }
        return url
    }
}
