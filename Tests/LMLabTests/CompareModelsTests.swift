import Foundation
import XCTest
import LMLab

/// `compare models PROMPT` on SmolLM2 and Gemma-3 loaded together.
final class CompareModelsTests: XCTestCase {
    func session() -> Session {
        Session(console: .capturing(), interrupt: Interrupt(), home: FileManager.default.temporaryDirectory)
    }

    func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    func testEveryLoadedModelSideBySide() throws {
        let s = session()
        XCTAssertTrue(s.run("load \(try MultiModelTests.smollm2.path) as small --context 64"), s.console.capturedErrors)
        XCTAssertTrue(s.run("load \(try MultiModelTests.gemma3.path) as big --context 64"), s.console.capturedErrors)
        s.console.reset()
        XCTAssertTrue(s.run("compare models The capital of France is --max 8 --json"), s.console.capturedErrors)
        let out = try json(s.console.captured)
        let rows = out["models"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["model"] as! String }, ["small", "big"])
        XCTAssertEqual(rows.map { $0["prompt_tokens"] as! Int }, [5, 6], "Gemma adds its BOS")
        for row in rows {
            let top = row["top"] as! [[String: Any]]
            let p = top.map { ($0["probability"] as! NSNumber).doubleValue }
            XCTAssertEqual(p.count, 5)
            XCTAssertEqual(p, p.sorted(by: >), "most likely first")
            XCTAssertLessThanOrEqual(p.reduce(0, +), 1.0001)
            XCTAssertGreaterThan(row["memory_bytes"] as! Int, row["parameters"] as! Int / 2, "at least the 4-bit weights")
            XCTAssertGreaterThan(row["decode_tokens_per_s"] as! Double, 0)
        }
        XCTAssertEqual((rows[0]["top"] as! [[String: Any]])[0]["piece"] as? String, " Paris")

        // Each continuation is exactly what greedy `gen` gives on that model alone.
        for (name, row) in zip(["small", "big"], rows) {
            XCTAssertTrue(s.run("use \(name)"))
            s.console.reset()
            XCTAssertTrue(s.run("gen The capital of France is --temp 0 --max 8 --json"), s.console.capturedErrors)
            XCTAssertEqual(row["continuation"] as? String, try json(s.console.captured)["text"] as? String, name)
        }
        XCTAssertEqual(rows[0]["continuation"] as? String, " Paris.\n\nThe United States has")

        // The table: one column per model, the figures in rows.
        s.console.reset()
        XCTAssertTrue(s.run("compare models The capital of France is --max 4"))
        let table = s.console.captured
        for expected in ["small", "big", "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf",
                         "next #1        \"·Paris\" 0.780", "small:  Paris.↵↵\n"] {
            XCTAssertTrue(table.contains(expected), "missing '\(expected)' in\n\(table)")
        }
    }

    func testBadInputIsOneLine() throws {
        let s = session()
        XCTAssertFalse(s.run("compare models hello"))
        XCTAssertEqual(s.console.capturedErrors, "error: no model loaded — try 'load smollm2' (or 'load PATH.gguf')\n")
        s.console.reset()
        XCTAssertFalse(s.run("compare modles hi"))
        XCTAssertEqual(s.console.capturedErrors, "error: compare what? 'modles' is not one of: models, quant — did you mean 'models'?\n")
        s.console.reset()
        XCTAssertFalse(s.run("compare models"))
        XCTAssertTrue(s.console.capturedErrors.hasPrefix("error: compare models needs a prompt"))
    }
}
