import Foundation
import XCTest
import LMEngine
import LMLab

/// Several models at once: `load … as NAME`, `use`, `models --loaded`, `unload NAME`,
/// and the memory check that refuses a model before anything is allocated.
final class MultiModelTests: XCTestCase {
    static let root = LabPaths.packageRoot

    static func model(_ file: String) throws -> URL { try LabPaths.model(file) }
    static var smollm2: URL { get throws { try model("SmolLM2-135M-Instruct.Q4_1.gguf") } }
    static var gemma3: URL { get throws { try model("gemma-3-270m-q4_k_m.gguf") } }

    func session() -> Session {
        Session(console: .capturing(), interrupt: Interrupt(), home: FileManager.default.temporaryDirectory)
    }

    func testTwoModelsByNameAndSwitching() throws {
        let s = session()
        XCTAssertTrue(s.run("load \(try Self.smollm2.path) --context 64"), s.console.capturedErrors)
        XCTAssertTrue(s.run("load \(try Self.gemma3.path) as big --context 64"), s.console.capturedErrors)
        XCTAssertEqual(s.models.names, ["SmolLM2-135M-Instruct.Q4_1", "big"])
        XCTAssertEqual(s.model?.name, "big", "the model loaded last is current")
        XCTAssertEqual(s.model?.model.config.architecture, "gemma3")

        // Each model answers with its own vocabulary: ids differ between the two tokenizers.
        s.console.reset()
        XCTAssertTrue(s.run("next The capital of France is 1 --json"), s.console.capturedErrors)
        let gemmaTop = try topToken(s.console.captured)
        XCTAssertTrue(s.run("use SmolLM2-135M-Instruct.Q4_1"), s.console.capturedErrors)
        XCTAssertEqual(s.model?.model.config.architecture, "llama")
        s.console.reset()
        XCTAssertTrue(s.run("next The capital of France is 1 --json"))
        let smolTop = try topToken(s.console.captured)
        XCTAssertEqual(smolTop.id, 7042)
        XCTAssertEqual(smolTop.piece, " Paris")
        XCTAssertEqual(smolTop.ids, [504, 3575, 282, 4649, 314])
        XCTAssertEqual(gemmaTop.ids.first, 2, "Gemma's prompt starts with its BOS")
        XCTAssertNotEqual(gemmaTop.ids.count, smolTop.ids.count)

        // models --loaded: both, the current one marked, memory per model.
        s.console.reset()
        XCTAssertTrue(s.run("models --loaded"), s.console.capturedErrors)
        let table = s.console.captured
        let rows = table.split(separator: "\n").map(String.init)
        let smolRow = try XCTUnwrap(rows.first { $0.contains("SmolLM2-135M-Instruct.Q4_1.gguf") })
        let bigRow = try XCTUnwrap(rows.first { $0.contains("gemma-3-270m-q4_k_m.gguf") })
        XCTAssertTrue(smolRow.hasPrefix("*"), table)
        XCTAssertFalse(bigRow.hasPrefix("*"), table)
        XCTAssertTrue(smolRow.contains("93.8 MiB mapped"), smolRow)
        XCTAssertTrue(bigRow.contains("241.4 MiB mapped"), bigRow)
        XCTAssertTrue(table.contains("2 loaded"), table)

        // The KV cache per model: layers · 2 · context · kv width · 4 bytes, filled as used.
        let smol = try XCTUnwrap(s.models["SmolLM2-135M-Instruct.Q4_1"]).memory
        XCTAssertEqual(smol.kvCacheReserved, 30 * 2 * 64 * (3 * 64) * 4)
        XCTAssertEqual(smol.kvCacheUsed, 5 * 30 * 2 * (3 * 64) * 4, "5 prompt tokens in the cache after `next`")
        let big = try XCTUnwrap(s.models["big"]).memory
        XCTAssertEqual(big.kvCacheReserved, 18 * 2 * 64 * 256 * 4)
        XCTAssertEqual(big.fileWeights, 253_113_024)

        // Unloading the current model makes the one loaded before it current.
        s.console.reset()
        XCTAssertTrue(s.run("use big"))
        XCTAssertTrue(s.run("unload"))
        XCTAssertTrue(s.console.captured.contains("unloaded big; the current model is now SmolLM2-135M-Instruct.Q4_1"),
                      s.console.captured)
        XCTAssertEqual(s.models.names, ["SmolLM2-135M-Instruct.Q4_1"])
        XCTAssertTrue(s.run("unload SmolLM2-135M-Instruct.Q4_1"))
        XCTAssertNil(s.model)
        XCTAssertTrue(s.run("models --loaded"))
    }

    func testBadNamesAreOneLineErrors() throws {
        let s = session()
        XCTAssertFalse(s.run("use big"))
        XCTAssertEqual(s.console.capturedErrors, "error: no model loaded — try 'load smollm2' (or 'load PATH.gguf')\n")
        XCTAssertTrue(s.run("load \(try Self.smollm2.path) as small --context 32"))
        s.console.reset()
        XCTAssertFalse(s.run("use smal"))
        XCTAssertEqual(s.console.capturedErrors, "error: no loaded model named 'smal' — did you mean 'small'?; loaded: small\n")
        s.console.reset()
        XCTAssertFalse(s.run("unload big"))
        XCTAssertEqual(s.console.capturedErrors, "error: no loaded model named 'big'; loaded: small\n")
        s.console.reset()
        XCTAssertFalse(s.run("load \(try Self.smollm2.path) as"))
        XCTAssertFalse(s.run("load \(try Self.smollm2.path) as a/b"))
        XCTAssertEqual(s.console.capturedErrors.split(separator: "\n").count, 2)
        XCTAssertEqual(s.models.names, ["small"], "failed loads change nothing")
    }

    func testReloadingANameReplacesTheModel() throws {
        let s = session()
        XCTAssertTrue(s.run("load \(try Self.smollm2.path) as m --context 32"))
        XCTAssertTrue(s.run("load \(try Self.gemma3.path) as m --context 32"))
        XCTAssertEqual(s.models.names, ["m"])
        XCTAssertEqual(s.model?.model.config.architecture, "gemma3")
    }

    func testAModelThatWouldNotFitIsRefusedWithTheFigures() throws {
        let s = session()
        XCTAssertTrue(s.run("load \(try Self.smollm2.path) as small --context 64"))
        s.availableMemory = { 200 << 20 }
        s.console.reset()
        XCTAssertFalse(s.run("load \(try Self.gemma3.path) as big --context 4096"))
        let err = s.console.capturedErrors
        // Weights 241.4 MiB alone exceed 200 MiB; the KV cache at 4096 tokens is 18·2·4096·256·4 B = 144 MiB.
        XCTAssertTrue(err.hasPrefix("error: big would not fit: it needs "), err)
        XCTAssertTrue(err.contains("weights 241.4 MiB + KV cache 144.0 MiB for 4,096 tokens"), err)
        XCTAssertTrue(err.contains("but only 200.0 MiB is available"), err)
        XCTAssertTrue(err.contains("unload a model first"), err)
        XCTAssertEqual(err.split(separator: "\n").count, 1)
        XCTAssertEqual(s.models.names, ["small"], "nothing was loaded")

        // Refused before anything is allocated: at its full context (32,768) Gemma's KV
        // cache is 1.1 GiB, and the address space is capped at what is mapped now plus
        // 768 MiB — room for mapping the file (241 MiB) to read its header, none for the
        // cache. Loading first and checking after would fail to map the cache and say so.
        try withAddressSpaceLimit(headroom: 768 << 20) {
            s.console.reset()
            XCTAssertFalse(s.run("load \(try Self.gemma3.path) as big"))
        }
        XCTAssertTrue(s.console.capturedErrors.hasPrefix("error: big would not fit: "), s.console.capturedErrors)
        XCTAssertTrue(s.console.capturedErrors.contains("KV cache 1.1 GiB for 32,768 tokens"), s.console.capturedErrors)
        XCTAssertEqual(s.models.names, ["small"])

        // With room for the weights but not the whole context, the refusal says which context would fit.
        s.availableMemory = { 400 << 20 }
        s.console.reset()
        XCTAssertFalse(s.run("load \(try Self.gemma3.path) as big --context 8192"))
        let hint = try XCTUnwrap(s.console.capturedErrors.range(of: "try --context ")).upperBound
        let suggested = Int(s.console.capturedErrors[hint...].prefix { $0.isNumber })!
        let need = try MemoryNeed(gguf: GGUFFile(url: try Self.gemma3), contextLength: suggested)
        XCTAssertLessThanOrEqual(need.total, 400 << 20, "the suggested context fits")
        XCTAssertNil(need.refusal(name: "big", available: 400 << 20))
        XCTAssertTrue(s.run("load \(try Self.gemma3.path) as big --context \(suggested)"), s.console.capturedErrors)
    }

    /// Runs `body` with RLIMIT_AS (soft) at this process's current virtual size plus
    /// `headroom`, then restores it. Linux only (the size comes from /proc/self/status).
    func withAddressSpaceLimit(headroom: Int, _ body: () throws -> Void) throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmSize:") })
        // "VmSize:\t  265644 kB": a tab, then spaces only while the number is short.
        let kilobytes = try XCTUnwrap(Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]), String(line))
        var old = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &old), 0)
        var capped = old
        capped.rlim_cur = rlim_t(kilobytes * 1024 + headroom)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &capped), 0)
        defer { XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &old), 0) }
        try body()
    }

    func topToken(_ json: String) throws -> (id: Int, piece: String, ids: [Int]) {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let top = (object["top"] as! [[String: Any]])[0]
        return (top["id"] as! Int, top["piece"] as! String, object["ids"] as! [Int])
    }
}
