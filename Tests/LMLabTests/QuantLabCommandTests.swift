import Foundation
import LMEngine
import LMLab
import XCTest

/// The quantization lab's commands on the real SmolLM2: `compare quant`,
/// `sample`, and `save` → `load` giving back identical tensors.
final class QuantLabCommandTests: XCTestCase {
    var smollm2: URL { get throws { try LabPaths.smollm2 } }

    func testCompareQuantJSONHasOneRowPerTypeWithConsistentFigures() throws {
        let s = Session(console: .capturing())
        XCTAssertTrue(s.run("load \(try smollm2.path)"), s.console.capturedErrors)
        s.console.reset()
        XCTAssertTrue(s.run("compare quant f32 q8_0 q4_0 --chunks 1 --prompt 8 --gen 4 --json"), s.console.capturedErrors)
        let json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        XCTAssertEqual(json["text"] as? String, "data/eval-prose.txt")
        let rows = try XCTUnwrap(json["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["type"] as? String }, ["F32", "Q8_0", "Q4_0"])
        let bits = rows.map { $0["bits_per_weight"] as! Double }
        XCTAssertEqual(bits[0], 32, accuracy: 1e-9)
        XCTAssertGreaterThan(bits[1], bits[2])                      // fewer bits down the ladder
        let kld = rows.map { $0["mean_kld"] as! Double }
        XCTAssertEqual(kld[0], 0, accuracy: 1e-4)                   // f32 against itself
        XCTAssertLessThan(kld[1], 0.02)
        XCTAssertGreaterThan(kld[2], kld[1])
        XCTAssertEqual(rows[0]["same_top_percent"] as! Double, 100, accuracy: 1e-9)
        XCTAssertEqual(rows[0]["delta_perplexity"] as! Double, 0, accuracy: 1e-3)
        for r in rows { XCTAssertGreaterThan(r["decode_tokens_per_s"] as! Double, 0) }
        // The ladder leaves the model on the file's weights.
        s.console.reset()
        XCTAssertTrue(s.run("info --json"))
        XCTAssertTrue(s.console.captured.contains("\"Q4_1\""), s.console.captured)
        XCTAssertFalse(s.run("compare quant q8_o"))
        XCTAssertEqual(s.console.capturedErrors.split(separator: "\n").last.map(String.init),
                       "error: unknown type 'q8_o' — did you mean 'q8_0'?; one of: file, " + WeightSet.offered.map { $0.name.lowercased() }.joined(separator: ", "))
    }

    func testSampleMarksWhereEachTypeLeavesTheReference() throws {
        let s = Session(console: .capturing())
        XCTAssertTrue(s.run("load \(try smollm2.path)"))
        s.console.reset()
        XCTAssertTrue(s.run("sample The capital of France is --types f32,q8_0,q2_k --max 8"), s.console.capturedErrors)
        let lines = s.console.captured.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, s.console.captured)
        XCTAssertTrue(lines[1].hasPrefix("f32 ") && lines[1].hasSuffix("(8/8 as f32)"), lines[1])
        XCTAssertFalse(lines[1].contains("["), "f32 can't differ from itself: \(lines[1])")
        // A line that disagrees opens a bracket exactly where its count of agreeing tokens says.
        for line in lines[2...] {
            let agreed = Int(line[line.range(of: "(")!.upperBound...].prefix { $0.isNumber })!
            XCTAssertEqual(line.contains("["), agreed < 8, line)
        }
    }

    func testSaveThenLoadGivesIdenticalTensors() throws {
        let source = try smollm2
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-save-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("smollm2-q4_0.gguf")
        let s = Session(console: .capturing())
        XCTAssertTrue(s.run("load \(source.path)"))
        XCTAssertTrue(s.run("quant q4_0"))
        XCTAssertTrue(s.run("save \(out.path)"), s.console.capturedErrors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(".smollm2-q4_0.gguf.partial").path))

        // Every tensor: same name, shape and order; matrices hold the in-memory Q4_0 bytes, the rest the file's.
        let original = try GGUFFile(url: source)
        let saved = try GGUFFile(url: out)
        XCTAssertEqual(saved.tensors.map(\.name), original.tensors.map(\.name))
        XCTAssertEqual(saved.tensors.map(\.dims), original.tensors.map(\.dims))
        let model = try ModelLoader.load(url: source)
        let set = try WeightSet(model: model, type: .q4_0, outputRule: true)
        model.use(set)
        let inUse = Dictionary(uniqueKeysWithValues: model.slots.map { ($0.name, $0.matrix) })
        for t in saved.tensors {
            let bytes = Data(bytes: saved.pointer(to: t), count: t.byteCount)
            if let m = inUse[t.name] {
                XCTAssertEqual(t.type, m.type, t.name)
                XCTAssertEqual(bytes, Data(bytes: m.data, count: m.rows * m.rowBytes), t.name)
            } else {
                let o = original.tensor(named: t.name)!
                XCTAssertEqual(t.type, o.type, t.name)
                XCTAssertEqual(bytes, Data(bytes: original.pointer(to: o), count: o.byteCount), t.name)
            }
        }
        // Metadata carried over, in order, with the file type now Q4_0 (llama.cpp's number 2).
        XCTAssertEqual(saved.metadataKeys, original.metadataKeys)
        XCTAssertEqual(try saved.int("general.file_type"), 2)
        XCTAssertEqual(try saved.stringArray("tokenizer.ggml.tokens"), try original.stringArray("tokenizer.ggml.tokens"))
        XCTAssertEqual(saved.alignment, original.alignment)

        // And it loads back and runs: the same greedy tokens as the in-memory Q4_0 weights.
        s.console.reset()
        XCTAssertTrue(s.run("gen The capital of France is --temp 0 --max 6 --json"))
        let inMemory = s.console.captured
        XCTAssertTrue(s.run("load \(out.path)"))
        s.console.reset()
        XCTAssertTrue(s.run("gen The capital of France is --temp 0 --max 6 --json"))
        func ids(_ text: String) -> [Int] { (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["generated_ids"] as? [Int] ?? [] }
        XCTAssertEqual(ids(s.console.captured), ids(inMemory))
        XCTAssertEqual(ids(inMemory).count, 6)

        // Saving over the loaded model's own file is refused.
        XCTAssertFalse(s.run("save \(out.path)"))
        XCTAssertTrue(s.console.capturedErrors.contains("is the loaded model's own file"), s.console.capturedErrors)
    }

    func testBenchAtSeveralDepths() throws {
        let s = Session(console: .capturing())
        XCTAssertTrue(s.run("load \(try smollm2.path)"))
        s.console.reset()
        XCTAssertTrue(s.run("bench --prompt 8 --gen 4 --reps 1 --depth 0,40 --json"), s.console.capturedErrors)
        let json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        let runs = try XCTUnwrap(json["depths"] as? [[String: Any]])
        XCTAssertEqual(runs.compactMap { ($0["result"] as? [String: Any])?["depth"] as? Int }, [0, 40])
        for run in runs {
            let r = run["result"] as! [String: Any]
            XCTAssertEqual((r["decode"] as! [Double]).count, 1)
            XCTAssertGreaterThan((r["decode"] as! [Double])[0], 0)
        }
        s.console.reset()   // a first bench on this machine notes its bandwidth probe on the error stream
        XCTAssertFalse(s.run("bench --depth 0,abc"))
        XCTAssertFalse(s.run("bench --depth 100000"))
        XCTAssertEqual(s.console.capturedErrors.split(separator: "\n").map(String.init),
                       ["error: --depth takes context lengths like 0,512,2048, got 'abc'",
                        "error: depth 100000 leaves no room in the 8064-token context for the test"])
    }
}
