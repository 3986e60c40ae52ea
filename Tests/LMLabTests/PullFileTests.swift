import Foundation
import LMEngine
import XCTest

/// `pull PATH`, `pull URL`, `rm NAME` and the models table's status column,
/// in a models folder of the test's own (LMLAB_MODELS).
final class PullFileTests: XCTestCase {
    var folder: URL!
    var env: [String: String] { ["LMLAB_MODELS": folder.path] }

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-pullfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// A small real GGUF file: one metadata key, one F32 tensor.
    func writeSmallGGUF(to url: URL) throws {
        var w = GGUFWriter()
        w.set("general.name", .string("pull-test"))
        let values: [Float] = (0..<32).map(Float.init)
        try w.addTensor(name: "t", dims: [32], type: .f32, bytes: values.withUnsafeBytes { Array($0) })
        try w.write(to: url)
    }

    func testPullALocalFileThenRemoveIt() throws {
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-src-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: source) }
        let file = source.appendingPathComponent("mini.gguf")
        try writeSmallGGUF(to: file)

        let pulled = try BinaryRunner.run(["-c", "pull \(file.path)"], environment: env)
        XCTAssertEqual(pulled.status, 0, pulled.stderr)
        XCTAssertTrue(pulled.stdout.contains("pulled \(folder.path)/mini.gguf"), pulled.stdout)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("mini.gguf")), try Data(contentsOf: file))

        let removed = try BinaryRunner.run(["-c", "rm mini"], environment: env)
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertTrue(removed.stdout.hasPrefix("deleted \(folder.path)/mini.gguf"), removed.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("mini.gguf").path))
        let again = try BinaryRunner.run(["-c", "rm mini"], environment: env)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.hasPrefix("error: no model named 'mini'"), again.stderr)
    }

    func testPullingASymbolicLinkCopiesTheFileItPointsTo() throws {
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-src-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: source) }
        let file = source.appendingPathComponent("real.gguf"), link = source.appendingPathComponent("linked.gguf")
        try writeSmallGGUF(to: file)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: file)

        let pulled = try BinaryRunner.run(["-c", "pull \(link.path)"], environment: env)
        XCTAssertEqual(pulled.status, 0, pulled.stderr)
        let copy = folder.appendingPathComponent("linked.gguf")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: copy.path)[.type] as? FileAttributeType, .typeRegular,
                       "a copy, not a link into a folder that may go away")
        XCTAssertEqual(try Data(contentsOf: copy), try Data(contentsOf: file))
    }

    func testANonGGUFFileIsDiscardedWithoutAPartialFile() throws {
        let junk = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-junk-\(UUID().uuidString).gguf")
        try Data("this is not a model".utf8).write(to: junk)
        defer { try? FileManager.default.removeItem(at: junk) }
        let r = try BinaryRunner.run(["-c", "pull \(junk.path)"], environment: env)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(junk.lastPathComponent) is not a usable GGUF file ("), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix(") — discarded\n"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testAnUnreachableAddressIsAOneLineErrorAndLeavesNothing() throws {
        // Port 9 on this machine answers nothing: the download fails at once.
        let r = try BinaryRunner.run(["-c", "pull http://127.0.0.1:9/model.gguf"], environment: env)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: could not download http://127.0.0.1:9/model.gguf: "), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
        let ftp = try BinaryRunner.run(["-c", "pull ftp://example.com/x.gguf"], environment: env)
        XCTAssertEqual(ftp.stderr, "error: pull takes http(s) addresses only, got 'ftp://example.com/x.gguf'\n")
    }

    func testModelsShowsWhetherEachIsPulled() throws {
        let r = try BinaryRunner.run(["-c", "models"], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        // Nothing is in the test's own folder, but the checkout's folder is searched too:
        // each real model is either pulled or says how to pull it.
        for name in ["smollm2-135m-instruct", "gemma3-270m"] {
            let row = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix(name) }, r.stdout)
            XCTAssertTrue(row.hasSuffix("pulled") || row.contains("not pulled — pull "), String(row))
        }
    }
}
