import Foundation
import XCTest
import LMEngine
import LMLab

/// The answer cache must not serve a model's answers to a different model that kept
/// the file's name and size, as a retrained tiny-math does (same architecture, same
/// tensor types). Checked with copies of the committed tiny-math, one with every
/// weight negated: a real GGUF file of the same name and size, as a retraining makes.
final class CascadeCacheKeyTests: XCTestCase {
    static let root = LabPaths.packageRoot

    func committedModel(_ file: String) throws -> URL { try LabPaths.model(file) }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-cascade-key-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    static let sameTime = Date(timeIntervalSince1970: 1_764_000_000)

    /// `<folder>/original/tiny-math.gguf`, a byte copy, and `<folder>/retrained/tiny-math.gguf`,
    /// the same file with the sign of every f32 weight flipped; both with the same modification time.
    func originalAndRetrained(in folder: URL) throws -> (original: URL, retrained: URL) {
        let source = try committedModel("tiny-math.gguf")
        let bytes = try Data(contentsOf: source)
        let gguf = try GGUFFile(url: source)
        var changed = bytes
        var flipped = 0
        for tensor in gguf.tensors where tensor.type == .f32 {
            let start = tensor.offset  // from the start of the file
            for i in stride(from: start + 3, to: start + tensor.byteCount, by: 4) { changed[i] ^= 0x80; flipped += 1 }
        }
        XCTAssertGreaterThan(flipped, 100_000, "tiny-math's weights are f32: most of the file changes")
        var out: [URL] = []
        for (name, data) in [("original", bytes), ("retrained", changed)] {
            let dir = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let url = dir.appendingPathComponent("tiny-math.gguf")
            try data.write(to: url)
            try FileManager.default.setAttributes([.modificationDate: Self.sameTime], ofItemAtPath: url.path)
            out.append(url)
        }
        return (out[0], out[1])
    }

    func testTheFingerprintTellsFilesOfTheSameNameAndSizeApart() throws {
        let folder = try temporaryFolder()
        let (original, retrained) = try originalAndRetrained(in: folder)
        let size = { (url: URL) in try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int }
        XCTAssertEqual(try size(original), try size(retrained))
        // Digested whole (tiny-math is 1 MB), and through samples as a 250 MB file is
        // (a head, a tail and 48 blocks between them: about a tenth of tiny-math at this limit).
        for limit in [ModelFileFingerprint.wholeFileLimit, 64 << 10] {
            let a = try XCTUnwrap(ModelFileFingerprint.of(original, wholeFileLimit: limit))
            let b = try XCTUnwrap(ModelFileFingerprint.of(retrained, wholeFileLimit: limit))
            XCTAssertEqual(a.prefix(17), "mtime-1764000000|")
            XCTAssertEqual(b.prefix(17), "mtime-1764000000|")
            XCTAssertNotEqual(a, b, "limit \(limit)")
            // Same content, another path: the same fingerprint, so the cache keeps working for a copy.
            let copy = folder.appendingPathComponent("copy.gguf")
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: original, to: copy)
            try FileManager.default.setAttributes([.modificationDate: Self.sameTime], ofItemAtPath: copy.path)
            XCTAssertEqual(ModelFileFingerprint.of(copy, wholeFileLimit: limit), a)
            // A symbolic link is followed to the file (the big models are symlinked into models/).
            let link = folder.appendingPathComponent("link.gguf")
            try? FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: original)
            XCTAssertEqual(ModelFileFingerprint.of(link, wholeFileLimit: limit), a)
        }
        // Touched but unchanged: a different fingerprint (recomputing is the safe side).
        try FileManager.default.setAttributes([.modificationDate: Self.sameTime.addingTimeInterval(60)], ofItemAtPath: original.path)
        XCTAssertEqual(ModelFileFingerprint.of(original)?.prefix(17), "mtime-1764000060|")
        XCTAssertNil(ModelFileFingerprint.of(folder.appendingPathComponent("absent.gguf")))
    }

    /// Through `cascade run`: the retrained file's answers are computed, not read from the
    /// original's cache, and the original's are still there for it afterwards.
    func testARetrainedModelOfTheSameNameAndSizeIsNotServedTheOldAnswers() throws {
        let folder = try temporaryFolder()
        let (original, retrained) = try originalAndRetrained(in: folder)
        let stories = try committedModel("tiny-stories.gguf")
        let home = folder.appendingPathComponent("home")
        let workload = Self.root.appendingPathComponent("workloads/arithmetic-compact.jsonl").path

        func run(_ math: URL) throws -> (computed: Int, cached: Int, answers: [String]) {
            let s = Session(console: .capturing(), interrupt: Interrupt(), home: home)
            XCTAssertTrue(s.run("load \(math.path) as math"), s.console.capturedErrors)
            XCTAssertTrue(s.run("load \(stories.path) as stories"), s.console.capturedErrors)
            s.console.reset()
            XCTAssertTrue(s.run("cascade run --workload \(workload) --tiers math,stories --limit 8 --json"), s.console.capturedErrors)
            let report = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
            let items = report["items"] as! [[String: Any]]
            return (report["answers_computed"] as! Int, report["answers_cached"] as! Int, items.map { ($0["answers"] as! [String])[0] })
        }
        let first = try run(original)
        XCTAssertEqual(first.cached, 0)
        XCTAssertGreaterThanOrEqual(first.computed, 8, "tiny-math answers all 8 items")
        let storiesAnswers = first.computed - 8

        // Same name, same size, same modification time, other weights: tiny-math's 8 are computed again.
        let second = try run(retrained)
        XCTAssertEqual(second.computed, 8)
        XCTAssertEqual(second.cached, storiesAnswers)
        XCTAssertNotEqual(second.answers, first.answers, "negated weights answer differently")

        // The original file again: everything from the cache, the same answers as the first time.
        let third = try run(original)
        XCTAssertEqual(third.computed, 0)
        XCTAssertEqual(third.cached, first.computed)
        XCTAssertEqual(third.answers, first.answers)
    }

    /// A cache that can't be written (here a file stands where its folder goes) costs the
    /// next run its answers, not this run its report: one line says so and the run ends.
    func testAnUnwritableCacheIsReportedAndTheRunStillEnds() throws {
        let folder = try temporaryFolder()
        let math = try committedModel("tiny-math.gguf"), stories = try committedModel("tiny-stories.gguf")
        let home = folder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try Data("not a folder".utf8).write(to: home.appendingPathComponent("cascade-cache"))
        let workload = Self.root.appendingPathComponent("workloads/arithmetic-compact.jsonl").path

        let s = Session(console: .capturing(), interrupt: Interrupt(), home: home)
        XCTAssertTrue(s.run("load \(math.path) as math"), s.console.capturedErrors)
        XCTAssertTrue(s.run("load \(stories.path) as stories"), s.console.capturedErrors)
        s.console.reset()
        XCTAssertTrue(s.run("cascade run --workload \(workload) --tiers math,stories --limit 4 --json"), s.console.capturedErrors)
        let report = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        XCTAssertEqual((report["items"] as? [Any])?.count, 4)
        XCTAssertGreaterThanOrEqual(report["answers_computed"] as? Int ?? 0, 4, "tiny-math answers all 4")
        let notes = s.console.capturedErrors.split(separator: "\n")
        XCTAssertEqual(notes.count, 1, s.console.capturedErrors)
        XCTAssertTrue(notes.first?.hasPrefix("cascade: answers not saved to the cache (\(home.path)/cascade-cache): ") == true,
                      s.console.capturedErrors)
        XCTAssertTrue(s.run("models"), "the lab goes on")
    }
}
