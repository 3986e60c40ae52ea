import Foundation
import LMEngine
import XCTest

final class TokenizerTests: XCTestCase {
    /// One GGUF + tokenizer for the whole class (loading is cheap, but there is no need to repeat it).
    private static var shared: (GGUFFile, Tokenizer)?

    private func smollm2() throws -> (GGUFFile, Tokenizer) {
        if let shared = TokenizerTests.shared { return shared }
        let file = try GGUFFile(url: try TestPaths.smollm2)
        let start = Date()
        let tokenizer = try TokenizerFactory.make(from: file)
        print(String(format: "SmolLM2 tokenizer build: %.1f ms", Date().timeIntervalSince(start) * 1000))
        TokenizerTests.shared = (file, tokenizer)
        return (file, tokenizer)
    }

    private struct Golden: Decodable {
        struct Tokenize: Decodable {
            let text: String
            let ids: [Int32]
            let ids_no_bos: [Int32]
            let ids_no_parse_special: [Int32]
        }
        struct Prompt: Decodable {
            let prompt: String
            let add_bos: Bool
            let prompt_ids: [Int32]
        }
        let tokenize: [Tokenize]
        let prompts: [Prompt]
    }

    private func golden() throws -> Golden {
        let data = try Data(contentsOf: TestPaths.fixture("golden-smollm2-135m-instruct-q4_1.json"))
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    // MARK: Golden tokenizations from llama.cpp

    func testGoldenTokenizations() throws {
        let (_, tok) = try smollm2()
        let g = try golden()
        XCTAssertEqual(g.tokenize.count, 8)
        for t in g.tokenize {
            XCTAssertEqual(tok.encode(t.text, addBOS: tok.addsBOS, parseSpecial: true), t.ids, "ids: \(t.text)")
            XCTAssertEqual(tok.encode(t.text, addBOS: false, parseSpecial: true), t.ids_no_bos, "no bos: \(t.text)")
            XCTAssertEqual(tok.encode(t.text, addBOS: tok.addsBOS, parseSpecial: false), t.ids_no_parse_special,
                           "no parse special: \(t.text)")
            // Decoding gives the text back, whichever way it was split.
            XCTAssertEqual(tok.decode(t.ids), t.text)
            XCTAssertEqual(tok.decode(t.ids_no_parse_special), t.text)
        }
    }

    func testGoldenPromptIDs() throws {
        let (_, tok) = try smollm2()
        let g = try golden()
        XCTAssertEqual(g.prompts.count, 6)
        for p in g.prompts {
            XCTAssertEqual(tok.encode(p.prompt, addBOS: p.add_bos, parseSpecial: true), p.prompt_ids, p.prompt)
            XCTAssertEqual(tok.decode(p.prompt_ids), p.prompt)
        }
    }

    func testSmolLM2Vocabulary() throws {
        let (_, tok) = try smollm2()
        XCTAssertEqual(tok.vocabularySize, 49152)
        XCTAssertEqual(tok.bosID, 1)
        XCTAssertEqual(tok.eosID, 2)
        XCTAssertFalse(tok.addsBOS)
        XCTAssertTrue(tok.endOfTurnIDs.isSuperset(of: [0, 2]))  // <|endoftext|>, <|im_end|>
        XCTAssertFalse(tok.endOfTurnIDs.contains(1))
        XCTAssertTrue(tok.isSpecial(1))
        XCTAssertFalse(tok.isSpecial(19556))
        XCTAssertEqual(tok.piece(1), "<|im_start|>")
        XCTAssertEqual(tok.piece(216), " ")
        XCTAssertEqual(tok.bytes(198), [0x0A])
        XCTAssertEqual(tok.piece(15107), " \u{FFFD}")  // " " + the first half of an emoji
        XCTAssertEqual(tok.bytes(-1), [])
        XCTAssertEqual(tok.bytes(49152), [])
    }

    func testPreTokenizerEdgeCases() throws {
        let (_, tok) = try smollm2()
        // Round trips over whitespace runs, digits next to spaces, contractions, unassigned code points.
        for text in ["a  1", "x   \n\n  y ", "I'M don't we'll they've", "\u{0378}x", "½ ² ٣", "   ", "\r\n\t"] {
            XCTAssertEqual(tok.decode(tok.encode(text, addBOS: false, parseSpecial: false)), text, text)
        }
        XCTAssertEqual(tok.encode("", addBOS: false, parseSpecial: true), [])
        XCTAssertEqual(tok.encode("", addBOS: true, parseSpecial: true), [1])
    }

    // MARK: Streaming decode

    func testStreamDecoderNeverEmitsHalfACharacter() throws {
        let (_, tok) = try smollm2()
        let ids = tok.encode("naïve café 🤖!", addBOS: false, parseSpecial: false)
        var decoder = UTF8StreamDecoder()
        var pieces: [String] = []
        for id in ids { pieces.append(decoder.append(tok.bytes(id))) }
        pieces.append(decoder.flush())
        for p in pieces { XCTAssertFalse(p.contains("\u{FFFD}"), "emitted a partial character: \(pieces)") }
        XCTAssertEqual(pieces.joined(), "naïve café 🤖!")
        // The robot's 4 bytes arrive over three tokens: nothing until the last.
        XCTAssertEqual(tok.bytes(15107), [0x20, 0xF0, 0x9F])
        XCTAssertTrue(pieces.contains("🤖"))

        // Byte by byte too, and an unfinished character at the end shows U+FFFD.
        var bytewise = UTF8StreamDecoder()
        var out = ""
        for b in Array("é🤖x".utf8) { out += bytewise.append([b]) }
        XCTAssertEqual(out, "é🤖x")
        XCTAssertEqual(bytewise.append([0xF0, 0x9F]), "")
        XCTAssertEqual(bytewise.flush(), "\u{FFFD}")
        XCTAssertEqual(bytewise.append([0xFF, 0x41]), "\u{FFFD}A")
    }

    // MARK: Chat template

    func testChatMLTemplate() throws {
        let (file, tok) = try smollm2()
        let template = try XCTUnwrap(ChatTemplate.detect(from: file))
        let system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
        XCTAssertEqual(template, .chatML(defaultSystem: system))
        XCTAssertEqual(template.render([.user("Hi")]),
                       "<|im_start|>system\n\(system)<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(template.render([.system("Be brief."), .user("Hi"), .assistant("Hello!")], addGenerationPrompt: false),
                       "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n")
        let ids = tok.encode(template.render([.user("Hi")]), addBOS: false, parseSpecial: true)
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(ids.filter { $0 == 2 }.count, 2)  // two <|im_end|>
        XCTAssertNil(ChatTemplate.detect("{{ bos_token }}{% for m in messages %}[INST]{% endfor %}"))
        XCTAssertEqual(ChatTemplate.detect("{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}"),
                       .chatML(defaultSystem: nil))
    }

    // MARK: Unsupported tokenizers

    func testUnsupportedModelIsAOneLineError() throws {
        var w = GGUFWriter()
        w.set("tokenizer.ggml.model", .string("t5"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-tok-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try w.write(to: url)
        let file = try GGUFFile(url: url)
        XCTAssertThrowsError(try TokenizerFactory.make(from: file)) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedModel("t5"))
            XCTAssertEqual("\(error)", "tokenizer model 't5' is not supported (supported: 'gpt2' byte-level BPE, 'llama' SentencePiece)")
        }
    }

    func testTinyWrittenVocabulary() throws {
        // A hand-made byte-level vocabulary: every byte, plus merges building "hello" and " world".
        let byteChars = (0..<256).map { byteLevelChar(UInt8($0)) }
        let merged = ["he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld"]
        let tokens = ["<s>", "<|user|>"] + byteChars + merged
        let types: [Int32] = [3, 4] + [Int32](repeating: 1, count: 256 + merged.count)
        let merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]
        var w = GGUFWriter()
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("smollm"))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
        w.set("tokenizer.ggml.token_type", .array(GGUFArray(int32s: types)))
        w.set("tokenizer.ggml.merges", .array(GGUFArray(strings: merges)))
        w.set("tokenizer.ggml.bos_token_id", .uint32(0))
        w.set("tokenizer.ggml.add_bos_token", .bool(true))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-tok-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try w.write(to: url)
        let tok = try TokenizerFactory.make(from: try GGUFFile(url: url))
        let id = { (s: String) in Int32(tokens.firstIndex(of: s)!) }
        XCTAssertEqual(tok.encode("hello world"), [0, id("hello"), id("Ġworld")])
        // User-defined tokens match even without parseSpecial; control tokens only with it.
        XCTAssertEqual(tok.encode("<|user|>hello", addBOS: false, parseSpecial: false), [1, id("hello")])
        XCTAssertEqual(tok.encode("<s>", addBOS: false, parseSpecial: false).count, 3)
        XCTAssertEqual(tok.encode("<s>", addBOS: false, parseSpecial: true), [0])
        XCTAssertEqual(tok.decode(tok.encode("hello wörld 42")), "<s>hello wörld 42")
    }

    /// GPT-2's byte alphabet, restated independently for the test.
    private func byteLevelChar(_ b: UInt8) -> String {
        let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
        if printable { return String(Unicode.Scalar(b)) }
        let rank = (0..<Int(b)).filter { x in
            !((0x21...0x7E).contains(x) || (0xA1...0xAC).contains(x) || (0xAE...0xFF).contains(x))
        }.count
        return String(Unicode.Scalar(UInt32(256 + rank))!)
    }

    // MARK: Speed

    func testTokenizeAliceSpeedAndCount() throws {
        let (_, tok) = try smollm2()
        let text = try String(contentsOf: try TestPaths.sharedFile("reference/text/alice-ch1-3.txt"), encoding: .utf8)
        var start = Date()
        let ids = tok.encode(text, addBOS: false, parseSpecial: false)
        let cold = Date().timeIntervalSince(start)
        start = Date()
        _ = tok.encode(text, addBOS: false, parseSpecial: false)
        let warm = Date().timeIntervalSince(start)
        print(String(format: "alice-ch1-3.txt: %d bytes → %d tokens in %.1f ms (again, word cache warm: %.1f ms)",
                     text.utf8.count, ids.count, cold * 1000, warm * 1000))
        XCTAssertEqual(ids.count, 8617)
        XCTAssertEqual(tok.decode(ids), text)
    }
}
