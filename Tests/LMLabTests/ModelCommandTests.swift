import Foundation
import XCTest
import LMEngine
import LMLab

/// The engine commands through the same entry the REPL uses, on the real
/// SmolLM2 file, and every bad input as a one-line error.
final class ModelCommandTests: XCTestCase {
    static let root = LabPaths.packageRoot
    static var smollm2: URL { root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf") }

    func requireModel() throws { _ = try LabPaths.smollm2 }

    func session() -> Session {
        Session(console: .capturing(), interrupt: Interrupt(), home: FileManager.default.temporaryDirectory)
    }

    func testLoadPrintsTheSummary() throws {
        try requireModel()
        let s = session()
        XCTAssertTrue(s.run("load \(Self.smollm2.path)"), s.console.capturedErrors)
        let out = s.console.captured
        for expected in ["architecture     llama", "layers           30", "width (d_model)  576",
                         "9 query, 3 key/value, head size 64", "49,152 tokens", "8,192 tokens",
                         "134.5M (134,515,008)", "Q4_1 ×210, F32 ×61, Q8_0 ×1", "93.8 MiB", "chat template    chatML"] {
            XCTAssertTrue(out.contains(expected), "missing '\(expected)' in\n\(out)")
        }
        XCTAssertEqual(s.settings.value("max_tokens").source, .model)
        XCTAssertTrue(s.run("unload"))
        XCTAssertNil(s.model)
        XCTAssertFalse(s.run("gen hello"))
        XCTAssertEqual(s.console.capturedErrors, "error: no model loaded — try 'load smollm2' (or 'load PATH.gguf')\n")
    }

    func testGenJSONIsGreedyAndParses() throws {
        try requireModel()
        let s = session()
        XCTAssertTrue(s.run("load \(Self.smollm2.path) --context 64"))
        s.console.reset()
        XCTAssertTrue(s.run("gen \"The capital of France is\" --temp 0 --max 5 --json"), s.console.capturedErrors)
        let json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        XCTAssertEqual(json["prompt_ids"] as? [Int], [504, 3575, 282, 4649, 314])
        // llama.cpp's greedy tokens for this prompt begin the same way.
        XCTAssertEqual(json["generated_ids"] as? [Int], [7042, 30, 198, 198, 504])
        XCTAssertEqual(json["text"] as? String, " Paris.\n\nThe")
        XCTAssertEqual(json["stop_reason"] as? String, "length")
        XCTAssertEqual(json["new_tokens"] as? Int, 5)
        XCTAssertGreaterThan(json["decode_tokens_per_s"] as? Double ?? 0, 0)
    }

    func testSamplingIsSeeded() throws {
        try requireModel()
        let s = session()
        XCTAssertTrue(s.run("load \(Self.smollm2.path) --context 128"))
        var texts: [String] = []
        for seed in [1, 1, 2] {
            s.console.reset()
            XCTAssertTrue(s.run("gen Once upon a time --temp 0.9 --max 12 --seed \(seed) --json"))
            let json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
            texts.append(json["text"] as! String)
        }
        XCTAssertEqual(texts[0], texts[1], "same seed, same text")
        XCTAssertNotEqual(texts[0], texts[2], "another seed, another text")
    }

    func testTokensShowsIdsAndPieces() throws {
        try requireModel()
        let s = session()
        XCTAssertTrue(s.run("load \(Self.smollm2.path) --context 64"))
        s.console.reset()
        XCTAssertTrue(s.run("tokens \"<|im_start|>user\""))
        XCTAssertEqual(s.console.captured, "[1:<|im_start|>] [4093:user]\n2 tokens · 16 characters · 8.00 characters per token\n")
        s.console.reset()
        XCTAssertTrue(s.run("tokens naïve café 🤖 --json"))
        let json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        XCTAssertEqual(json["ids"] as? [Int], [3546, 46494, 37366, 15107, 114, 240])
        s.console.reset()
        XCTAssertTrue(s.run("tokens \"<|im_start|>\" --no-special --json"))
        let plain = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        XCTAssertEqual(plain["ids"] as? [Int], [44, 108, 306, 79, 3738, 108, 46])
    }

    func testChatKeepsTheConversation() throws {
        try requireModel()
        let s = session()
        XCTAssertTrue(s.run("load \(Self.smollm2.path) --context 512"))
        XCTAssertTrue(s.run("set temperature 0"))
        XCTAssertTrue(s.run("set max_tokens 12"))
        // With 8-bit activations this 135M model's first answer token flips to a
        // near-tie ("L'Étoile…"); f32 activations answer plainly.
        XCTAssertTrue(s.run("set activations f32"))
        XCTAssertTrue(s.run("chat What is the capital of France?"), s.console.capturedErrors)
        XCTAssertTrue(s.console.captured.contains("Paris"), s.console.captured)
        let firstTurnTokens = s.model!.model.position
        XCTAssertTrue(s.run("chat And of Italy?"))
        XCTAssertGreaterThan(s.model!.model.position, firstTurnTokens, "the second turn continues the first")
        XCTAssertTrue(s.run("chat --reset"))
        XCTAssertFalse(s.run("chat"), "chat without a message needs the interactive lab")
        XCTAssertTrue(s.console.capturedErrors.contains("outside the interactive lab"))
    }

    func testPerplexityCommand() throws {
        try requireModel()
        let text = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-ppl.txt")
        let sentence = "The quick brown fox jumps over the lazy dog while the cat sleeps in the warm sun. "
        try String(repeating: sentence, count: 40).write(to: text, atomically: true, encoding: .utf8)
        let s = session()
        XCTAssertTrue(s.run("load \(Self.smollm2.path) --context 128"))
        s.console.reset()
        XCTAssertTrue(s.run("ppl \(text.path) --context 64 --chunks 2 --json"), s.console.capturedErrors)
        let json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        XCTAssertEqual(json["chunks"] as? Int, 2)
        XCTAssertEqual(json["scoredTokens"] as? Int, 2 * 31)
        let ppl = json["perplexity"] as! Double
        XCTAssertGreaterThan(ppl, 1)
        XCTAssertLessThan(ppl, 3, "a text repeated 40 times is easy to predict")
        XCTAssertFalse(s.run("ppl /nonexistent.txt"))
        XCTAssertEqual(s.console.capturedErrors, "error: can't read '/nonexistent.txt'\n")
    }

    func testPromptBeyondTheContextIsAOneLineError() throws {
        try requireModel()
        let s = session()
        XCTAssertTrue(s.run("load \(Self.smollm2.path) --context 16"))
        s.console.reset()
        XCTAssertFalse(s.run("gen " + String(repeating: "word ", count: 40)))
        XCTAssertEqual(s.console.capturedErrors,
                       "error: the prompt has 40 tokens; the context holds 16 (shorten it, or `unload` and load with a larger --context)\n")
        XCTAssertTrue(s.run("gen hi --max 2"), "the session goes on")
    }

    /// Broken files: each a one-line error naming the problem; the session goes on.
    func testBadFilesGiveOneLineErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-bad-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func write(_ name: String, _ data: Data) -> String {
            let url = dir.appendingPathComponent(name)
            try! data.write(to: url)
            return url.path
        }
        // A small valid llama-shaped header to corrupt: written by the project's GGUF writer.
        var w = GGUFWriter()
        w.set("general.architecture", .string("mamba"))
        let unknownArch = write("mamba.gguf", Data(w.encoded()))
        var v = GGUFWriter()
        v.set("general.architecture", .string("llama"))
        try v.addTensor(name: "token_embd.weight", dims: [32, 2], type: .f32, bytes: [UInt8](repeating: 0, count: 256))
        var full = v.encoded()
        full.removeLast(100)   // the tensor's bytes now run past the end
        let tensorPastEnd = Data(full)
        let cases: [(String, String)] = [
            (write("empty.gguf", Data()), "truncated file"),
            (write("text.gguf", Data("hello, this is not a model\n".utf8)), "not a GGUF file"),
            (write("zip.gguf", Data([0x50, 0x4B, 3, 4, 0, 0, 0, 0])), "not a GGUF file"),
            (write("truncated.gguf", Data("GGUF".utf8) + Data([3, 0, 0, 0, 1])), "truncated"),
            (unknownArch, "unsupported architecture 'mamba'"),
            (write("past-end.gguf", tensorPastEnd), "past the end"),
        ]
        let s = session()
        for (path, fragment) in cases {
            s.console.reset()
            XCTAssertFalse(s.run("load \(path)"), path)
            let err = s.console.capturedErrors
            XCTAssertTrue(err.hasPrefix("error: can't load '"), err)
            XCTAssertTrue(err.contains(fragment), "\(path): \(err)")
            XCTAssertEqual(err.filter { $0 == "\n" }.count, 1, "one line: \(err)")
        }
        s.console.reset()
        XCTAssertFalse(s.run("load nosuchmodel"))
        XCTAssertTrue(s.console.capturedErrors.hasPrefix("error: no model named 'nosuchmodel'"), s.console.capturedErrors)
        XCTAssertTrue(s.run("help load"), "the session goes on")
    }
}

extension ModelCommandTests {
    func testQuantAndBenchCommands() throws {
        try requireModel()
        let s = session()
        XCTAssertTrue(s.run("load \(Self.smollm2.path) --context 128"))
        s.console.reset()
        XCTAssertTrue(s.run("quant q4_k"), s.console.capturedErrors)
        let out = s.console.captured
        XCTAssertTrue(out.hasPrefix("quantized 211 tensors to Q4_K"), out)
        XCTAssertTrue(out.contains("fell back"), out)
        XCTAssertTrue(out.contains("the file itself is Q4_1"), out)
        s.console.reset()
        XCTAssertTrue(s.run("bench --prompt 16 --gen 8 --reps 2 --json"), s.console.capturedErrors)
        let json = try JSONSerialization.jsonObject(with: Data(s.console.captured.utf8)) as! [String: Any]
        let result = json["result"] as! [String: Any]
        XCTAssertEqual((result["prefill"] as! [Double]).count, 2)
        XCTAssertTrue((result["decode"] as! [Double]).allSatisfy { $0 > 0 })
        XCTAssertGreaterThan(json["bandwidth_bytes_per_s"] as! Double, 1e9)
        XCTAssertTrue(s.run("quant reset"))
        XCTAssertTrue(s.console.captured.contains("back to the file's weights"))
        for (line, message) in [("quant q9_0", "error: unknown type 'q9_0' — did you mean 'q8_0'?"),
                                ("quant q4_0 --only heads", "error: --only takes attn, mlp or embed, got 'heads'"),
                                ("bench --prompt 0 --gen 0", "error: nothing to measure: --prompt and --gen are both 0")] {
            s.console.reset()
            XCTAssertFalse(s.run(line))
            XCTAssertTrue(s.console.capturedErrors.hasPrefix(message), s.console.capturedErrors)
        }
    }
}
