import Foundation
import XCTest

/// `synth --plan`: a model's size worked out from its shape, with nothing written,
/// so a lesson can show what an LLM-scale model needs without minutes of writing.
final class SynthPlanTests: XCTestCase {
    func testAPlanGivesTheSizeAndWritesNothing() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-plan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let lesson = home.appendingPathComponent("lessons")
        try FileManager.default.createDirectory(at: lesson, withIntermediateDirectories: true)
        // The figures as a lesson reads them: a 1B llama in Q4_K_M, and 70B, which no test machine could hold.
        try """
        # Plan

        ```lab
        synth llama --params 1B --type q4_k_m --plan
        expect: parameters > 1000000000
        expect: parameters < 1020000000
        expect: weights_mib > 600
        expect: weights_mib < 620
        verdict: planned {parameters} parameters in {weights_mib:1} MiB
        ```

        ```lab
        synth llama --params 70B --plan
        expect: parameters > 69000000000
        ```
        """.write(to: lesson.appendingPathComponent("01-plan.md"), atomically: true, encoding: .utf8)
        let r = try BinaryRunner.run(["lesson", "1", "--run"], environment: ["LMLAB_HOME": home.path, "LMLAB_LESSONS": lesson.path])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("1.01B parameters, 609.6 MiB in q4_k_m"), r.stdout)
        XCTAssertTrue(r.stdout.contains("⇒ planned 1,007,113,728 parameters in 609.6 MiB"), r.stdout)
        XCTAssertTrue(r.stdout.contains("(--plan: nothing written"), r.stdout)
        let written = (try? FileManager.default.subpathsOfDirectory(atPath: home.path))?.filter { $0.hasSuffix(".gguf") } ?? []
        XCTAssertEqual(written, [], "a plan writes no model")
        XCTAssertFalse(FileManager.default.fileExists(atPath: LabPaths.packageRoot.appendingPathComponent("models/synth-llama-1B-q4_k_m.gguf").path))
    }

    /// `synth --keep`: a file that already holds the same plan (shape, type, seed) is kept,
    /// one with another seed is written again; `$LMLAB_HOME` in --out is the lab's folder.
    func testKeepReusesAFileOnlyWhenItHoldsTheSamePlan() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-keep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let file = home.appendingPathComponent("scratch/tiny.gguf")
        func synth(seed: Int) throws -> String {
            let r = try BinaryRunner.run(["-c", "synth llama --params 10M --type q8_0 --seed \(seed) --keep --out $LMLAB_HOME/scratch/tiny.gguf"],
                                         environment: ["LMLAB_HOME": home.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout
        }
        XCTAssertTrue(try synth(seed: 3).contains("wrote \(file.path)"))
        let first = try Data(contentsOf: file)
        XCTAssertTrue(try synth(seed: 3).contains("kept \(file.path): it already holds this plan"))
        XCTAssertEqual(try Data(contentsOf: file), first)
        XCTAssertTrue(try synth(seed: 4).contains("wrote \(file.path)"))
        XCTAssertNotEqual(try Data(contentsOf: file), first, "another seed must write other weights")
    }
}
