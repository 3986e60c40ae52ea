import Foundation
import XCTest
import LMEngine
import LMLab

/// `load ollama:NAME[:TAG]` and `models --ollama` on a store this test writes in Ollama's
/// real layout (manifests/<host>/<namespace>/<model>/<tag>, blobs/sha256-<hex>) around the
/// committed tiny-stories GGUF, with $OLLAMA_MODELS pointing at it.
final class OllamaStoreTests: XCTestCase {
    var store: URL!
    var savedOllamaModels: String?

    override func setUpWithError() throws {
        let fm = FileManager.default
        store = fm.temporaryDirectory.appendingPathComponent("lmlab-ollama-\(UUID().uuidString)")
        let gguf = LabPaths.file("models/tiny-stories.gguf")
        let hex = try sha256(gguf)
        try fm.createDirectory(at: store.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        let blob = store.appendingPathComponent("blobs/sha256-" + hex)
        // A hard link when the file system allows it (Ollama's blobs are plain files either way).
        if (try? fm.linkItem(at: gguf, to: blob)) == nil { try fm.copyItem(at: gguf, to: blob) }
        let size = try Data(contentsOf: gguf).count
        try writeManifest("tiny", "latest", modelDigest: "sha256:" + hex, size: size)

        // The same GGUF with general.architecture "mamba": same length as "llama", patched in place.
        var bytes = try Data(contentsOf: gguf)
        let key = Array("general.architecture".utf8)
        let at = try XCTUnwrap(bytes.range(of: Data(key))).upperBound
        // type (u32 8 = string), length (u64 5), then the value
        XCTAssertEqual(Array(bytes[(at + 12)..<(at + 17)]), Array("llama".utf8))
        bytes.replaceSubrange((at + 12)..<(at + 17), with: Array("mamba".utf8))
        let mambaHex = String(repeating: "ab", count: 32)
        try bytes.write(to: store.appendingPathComponent("blobs/sha256-" + mambaHex))
        try writeManifest("snake", "latest", modelDigest: "sha256:" + mambaHex, size: bytes.count)
        // A manifest cut short mid-write, and one without a model layer.
        let broken = store.appendingPathComponent("manifests/registry.ollama.ai/library/tiny/broken")
        try Data(#"{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.ima"#.utf8).write(to: broken)
        try writeManifest("tiny", "nomodel", modelDigest: "sha256:" + hex, size: size,
                          mediaType: "application/vnd.ollama.image.template")

        savedOllamaModels = ProcessInfo.processInfo.environment["OLLAMA_MODELS"]
        setenv("OLLAMA_MODELS", store.path, 1)
    }

    override func tearDownWithError() throws {
        if let savedOllamaModels { setenv("OLLAMA_MODELS", savedOllamaModels, 1) } else { unsetenv("OLLAMA_MODELS") }
        try? FileManager.default.removeItem(at: store)
    }

    func writeManifest(_ model: String, _ tag: String, modelDigest: String, size: Int,
                       mediaType: String = "application/vnd.ollama.image.model") throws {
        let folder = store.appendingPathComponent("manifests/registry.ollama.ai/library/\(model)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let manifest: [String: Any] = [
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": ["mediaType": "application/vnd.docker.container.image.v1+json",
                       "digest": "sha256:" + String(repeating: "0", count: 64), "size": 2],
            "layers": [
                ["mediaType": mediaType, "digest": modelDigest, "size": size],
                ["mediaType": "application/vnd.ollama.image.params",
                 "digest": "sha256:" + String(repeating: "1", count: 64), "size": 30],
            ],
        ]
        try JSONSerialization.data(withJSONObject: manifest).write(to: folder.appendingPathComponent(tag))
    }

    /// coreutils' sha256sum through system(3), its output in a file: no Foundation Process or
    /// pipe (after other suites' helpers, waiting on a pipe here once never returned).
    func sha256(_ url: URL) throws -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-sha-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        XCTAssertEqual(system("sha256sum '\(url.path)' > '\(out.path)'"), 0)
        let hex = String(decoding: try Data(contentsOf: out), as: UTF8.self).prefix(64)
        XCTAssertEqual(hex.count, 64)
        return String(hex)
    }

    func session() -> Session {
        Session(console: .capturing(), interrupt: Interrupt(), home: FileManager.default.temporaryDirectory)
    }

    func testNamesParseWithOllamasDefaults() throws {
        let short = try OllamaStore.Reference(parsing: "qwen3:4b")
        XCTAssertEqual([short.host, short.namespace, short.model, short.tag], ["registry.ollama.ai", "library", "qwen3", "4b"])
        XCTAssertEqual(short.description, "qwen3:4b")
        XCTAssertEqual(short.sessionName, "qwen3-4b")
        let user = try OllamaStore.Reference(parsing: "me/mine")
        XCTAssertEqual([user.namespace, user.model, user.tag], ["me", "mine", "latest"])
        let full = try OllamaStore.Reference(parsing: "host.example:5000/me/mine:q4_K")
        XCTAssertEqual([full.host, full.namespace, full.model, full.tag], ["host.example:5000", "me", "mine", "q4_K"])
        for bad in ["", ":4b", "a/b/c/d", "../x", "qwen3:", "a b", "qwen3:../../x"] {
            XCTAssertThrowsError(try OllamaStore.Reference(parsing: bad), bad)
        }
    }

    func testLoadMapsTheBlobInPlaceAndMatchesTheFile() throws {
        let s = session()
        XCTAssertTrue(s.run("load ollama:tiny"), s.console.capturedErrors)
        XCTAssertTrue(s.console.captured.contains("loaded tiny"), s.console.captured)
        let loaded = try XCTUnwrap(s.models["tiny"])
        // the blob itself, not a copy
        XCTAssertEqual(loaded.url.deletingLastPathComponent().standardizedFileURL.path,
                       store.appendingPathComponent("blobs").standardizedFileURL.path)
        s.console.reset()
        XCTAssertTrue(s.run("gen \"Once upon a time\" --temp 0 --max 8 --json"), s.console.capturedErrors)
        let viaStore = s.console.captured
        XCTAssertTrue(s.run("load \(LabPaths.file("models/tiny-stories.gguf").path) as direct"))
        s.console.reset()
        XCTAssertTrue(s.run("gen \"Once upon a time\" --temp 0 --max 8 --json"), s.console.capturedErrors)
        func ids(_ json: String) throws -> [Int] {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
            return object["generated_ids"] as! [Int]
        }
        XCTAssertEqual(try ids(viaStore), try ids(s.console.captured))
        XCTAssertEqual(try ids(viaStore).count, 8)
    }

    func testEachFailureIsOneLine() throws {
        let cases: [(String, String)] = [
            ("load ollama:tiny:7b",
             "error: ollama:tiny:7b is not in Ollama's store at \(store.path) (its tags there: broken, latest, nomodel); 'models --ollama' lists what is\n"),
            ("load ollama:qwen3:4b",
             "error: ollama:qwen3:4b is not in Ollama's store at \(store.path) (no model 'qwen3' there); 'models --ollama' lists what is\n"),
            ("load ollama:tiny:broken",
             "error: ollama:tiny:broken: the manifest \(store.path)/manifests/registry.ollama.ai/library/tiny/broken is not JSON with a \"layers\" list\n"),
            ("load ollama:tiny:nomodel",
             "error: ollama:tiny:nomodel: the manifest \(store.path)/manifests/registry.ollama.ai/library/tiny/nomodel has no layer of media type application/vnd.ollama.image.model\n"),
            ("load ollama:snake",
             "error: can't load 'ollama:snake': unsupported architecture 'mamba' (supported: \(ArchitectureRegistry.names.joined(separator: ", ")))\n"),
            ("load ollama:a/b/c/d",
             "error: 'ollama:a/b/c/d' is not an Ollama model name: expected [host/][namespace/]model[:tag], e.g. ollama:qwen3:4b\n"),
        ]
        for (line, expected) in cases {
            let s = session()
            XCTAssertFalse(s.run(line), line)
            XCTAssertEqual(s.console.capturedErrors, expected, line)
            XCTAssertNil(s.model, line)
        }
    }

    func testModelsListsTheStore() throws {
        let s = session()
        XCTAssertTrue(s.run("models --ollama"), s.console.capturedErrors)
        let lines = s.console.captured.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "Ollama's store at \(store.path):")
        let tiny = try XCTUnwrap(lines.first { $0.contains("ollama:tiny:latest") })
        XCTAssertTrue(tiny.contains("llama") && tiny.contains("yes") && tiny.contains("MiB"), tiny)
        let snake = try XCTUnwrap(lines.first { $0.contains("ollama:snake:latest") })
        XCTAssertTrue(snake.contains("mamba") && snake.contains("no (unsupported architecture)"), snake)
        XCTAssertEqual(lines.filter { $0.hasPrefix("skipped: ") }.count, 2, s.console.captured)

        unsetenv("OLLAMA_MODELS")
        setenv("OLLAMA_MODELS", store.appendingPathComponent("nowhere").path, 1)
        s.console.reset()
        XCTAssertTrue(s.run("models --ollama"))
        XCTAssertEqual(s.console.captured,
                       "no models in Ollama's store at \(store.path)/nowhere (set OLLAMA_MODELS, or 'ollama pull qwen3:4b')\n")
    }
}
