import Foundation
import LMEngine
import XCTest

final class SentencePieceTokenizerTests: XCTestCase {
    /// One GGUF + tokenizer for the whole class.
    private static var shared: (GGUFFile, Tokenizer)?

    private func gemma() throws -> (GGUFFile, Tokenizer) {
        if let shared = SentencePieceTokenizerTests.shared { return shared }
        let file = try GGUFFile(url: try TestPaths.model("gemma-3-270m-q4_k_m.gguf"))
        let start = Date()
        let tokenizer = try TokenizerFactory.make(from: file)
        print(String(format: "Gemma tokenizer build (262,144 tokens, from parsed GGUF): %.1f ms",
                     Date().timeIntervalSince(start) * 1000))
        SentencePieceTokenizerTests.shared = (file, tokenizer)
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
        let data = try Data(contentsOf: TestPaths.fixture("golden-gemma3-270m-q4_k_m.json"))
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    // MARK: Golden tokenizations from llama.cpp

    func testGemmaGoldenTokenizations() throws {
        let (_, tok) = try gemma()
        let g = try golden()
        XCTAssertEqual(g.tokenize.count, 8)
        for t in g.tokenize {
            XCTAssertEqual(tok.encode(t.text, addBOS: tok.addsBOS, parseSpecial: true), t.ids, "ids: \(t.text)")
            XCTAssertEqual(tok.encode(t.text, addBOS: false, parseSpecial: true), t.ids_no_bos, "no bos: \(t.text)")
            XCTAssertEqual(tok.encode(t.text, addBOS: tok.addsBOS, parseSpecial: false), t.ids_no_parse_special,
                           "no parse special: \(t.text)")
            XCTAssertEqual(tok.decode(t.ids_no_bos), t.text)
        }
    }

    func testGemmaGoldenPromptIDs() throws {
        let (_, tok) = try gemma()
        let g = try golden()
        XCTAssertEqual(g.prompts.count, 6)
        for p in g.prompts {
            XCTAssertEqual(tok.encode(p.prompt, addBOS: p.add_bos, parseSpecial: true), p.prompt_ids, p.prompt)
            XCTAssertEqual(tok.decode(Array(p.prompt_ids.dropFirst())), p.prompt)
        }
    }

    // MARK: Vocabulary and special tokens

    func testGemmaVocabulary() throws {
        let (_, tok) = try gemma()
        XCTAssertTrue(tok is SentencePieceTokenizer)
        XCTAssertEqual(tok.vocabularySize, 262_144)
        XCTAssertEqual(tok.bosID, 2)
        XCTAssertEqual(tok.eosID, 1)
        XCTAssertTrue(tok.addsBOS)
        XCTAssertEqual((tok as? SentencePieceTokenizer)?.addsSpacePrefix, false)
        XCTAssertTrue(tok.endOfTurnIDs.isSuperset(of: [1, 106]))  // <eos>, <end_of_turn>
        XCTAssertFalse(tok.endOfTurnIDs.contains(105))
        XCTAssertEqual(tok.piece(105), "<start_of_turn>")
        XCTAssertEqual(tok.piece(106), "<end_of_turn>")
        XCTAssertTrue(tok.isSpecial(105))
        XCTAssertTrue(tok.isSpecial(107))  // "\n" is user-defined
        XCTAssertFalse(tok.isSpecial(9259))
        XCTAssertEqual(tok.piece(9259), "Hello")
        XCTAssertEqual(tok.piece(1902), " world")  // ▁world
        XCTAssertEqual(tok.piece(138), "  ")  // a whitespace-run token
        XCTAssertEqual(tok.bytes(238 + 0x41), [0x41])  // <0x41>
        XCTAssertEqual(tok.piece(238 + 0xE2), "\u{FFFD}")  // half a character
    }

    func testGemmaControlTokensInText() throws {
        let (_, tok) = try gemma()
        let text = "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"
        let ids = tok.encode(text, addBOS: true, parseSpecial: true)
        XCTAssertEqual(ids.first, 2)
        XCTAssertEqual(ids.filter { $0 == 105 }.count, 2)
        XCTAssertEqual(ids.filter { $0 == 106 }.count, 1)
        XCTAssertEqual(Array(ids.suffix(3)), [105, tok.encode("model", addBOS: false, parseSpecial: true)[0], 107])
        XCTAssertEqual(tok.decode(Array(ids.dropFirst())), text)
        // Without parseSpecial the markers are plain text, but "\n" (user-defined) is still cut out.
        let plain = tok.encode(text, addBOS: false, parseSpecial: false)
        XCTAssertFalse(plain.contains(105))
        XCTAssertFalse(plain.contains(106))
        XCTAssertTrue(plain.contains(107))
        XCTAssertEqual(tok.decode(plain), text)
        // User-defined HTML tags are cut out either way.
        XCTAssertEqual(tok.encode("<table>", addBOS: false, parseSpecial: false), [168])
    }

    // MARK: Byte fallback and round trips

    func testByteFallback() throws {
        let (_, tok) = try gemma()
        // U+0800 (Samaritan alaf, E0 A0 80) has no token: three <0xNN> tokens stand in.
        let ids = tok.encode("\u{0800}", addBOS: false, parseSpecial: true)
        XCTAssertEqual(ids, [238 + 0xE0, 238 + 0xA0, 238 + 0x80])
        XCTAssertEqual(tok.decode(ids), "\u{0800}")
        // Streaming the bytes never shows half of it.
        var stream = UTF8StreamDecoder()
        XCTAssertEqual(stream.append(tok.bytes(ids[0])), "")
        XCTAssertEqual(stream.append(tok.bytes(ids[1])), "")
        XCTAssertEqual(stream.append(tok.bytes(ids[2])), "\u{0800}")
        XCTAssertEqual(stream.flush(), "")
    }

    func testRoundTrips() throws {
        let (_, tok) = try gemma()
        let texts = [
            "", " ", "  ", "a  b   c    d", " leading and trailing ", "\t\tindented\n\n\nthree newlines",
            "x\u{0800}y \u{10400} \u{3400}", "emoji 👩‍👩‍👧 and flags 🇳🇴", "e\u{301} vs é",
            "<start_of_turn>user\nhello<end_of_turn>", "<table><tr><td>1</td></tr></table>",
            "def f(x):\n    return x ** 2  # squared\n", String(repeating: " ", count: 40),
            String(repeating: "\n", count: 40),
        ]
        for text in texts {
            for parseSpecial in [true, false] {
                let ids = tok.encode(text, addBOS: false, parseSpecial: parseSpecial)
                XCTAssertEqual(tok.decode(ids), text, "parseSpecial \(parseSpecial): \(text.debugDescription)")
            }
        }
        XCTAssertEqual(tok.encode("", addBOS: true, parseSpecial: true), [2])
    }

    // MARK: A written vocabulary (no model file needed)

    func testTinyWrittenVocabulary() throws {
        // Pieces with scores; "▁" is the space mark. Merges go by the score of the token they make.
        let pieces: [(String, Float, Int32)] = [
            ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), ("abc", 0, 4), ("cdef", 0, 4),
            ("▁", -1, 1), ("h", -1, 1), ("e", -1, 1), ("l", -1, 1), ("o", -1, 1), ("▁h", -2, 1),
            ("ll", -3, 1), ("ell", -4, 1), ("▁hell", -5, 1), ("▁hello", -6, 1), ("he", -0.5, 1),
            ("<0x21>", 0, 6), ("<0xC3>", 0, 6), ("<0xA9>", 0, 6),
        ]
        let tok = try SentencePieceTokenizer(
            tokens: pieces.map { $0.0 }, scores: pieces.map { $0.1 }, tokenTypes: pieces.map { $0.2 },
            bosID: 1, eosID: 2, unknownID: 0, addsBOS: true, addsSpacePrefix: true)
        let id = { (s: String) in Int32(pieces.firstIndex { $0.0 == s }!) }
        // "he" scores best, so it merges first and "▁hello" can never form: ▁ + he + ll + o.
        XCTAssertEqual(tok.encode("hello", addBOS: false, parseSpecial: false),
                       [id("▁"), id("he"), id("ll"), id("o")])
        // Characters without a token fall back to bytes; "!" has one, "é" two.
        XCTAssertEqual(tok.encode("o!é", addBOS: true, parseSpecial: false),
                       [1, id("▁"), id("o"), id("<0x21>"), id("<0xC3>"), id("<0xA9>")])
        // Specials longest first, as llama.cpp: "cdef" is cut before "abc" gets a chance.
        XCTAssertEqual(tok.encode("abcdef", addBOS: false, parseSpecial: false).suffix(1), [id("cdef")])
        // A control token is cut out only with parseSpecial; the text after it gets the space prefix.
        XCTAssertEqual(tok.encode("</s>o", addBOS: false, parseSpecial: true), [2, id("▁"), id("o")])
        XCTAssertEqual(tok.decode([id("▁h"), id("ell"), id("o")]), " hello")
        XCTAssertEqual(tok.endOfTurnIDs, [2])
    }

    // MARK: Chat template

    func testGemmaChatTemplate() throws {
        // The shape of Gemma 3's template: bos, system folded into the first user turn, assistant → model.
        let template = """
            {{ bos_token }}{%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = \
            messages[0]['content'] + '\\n\\n' -%}{%- endif -%}{%- for message in loop_messages -%}\
            {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else "") }}\
            {{ message['content'] | trim }}{{ '<end_of_turn>\\n' }}{%- endfor -%}\
            {%- if add_generation_prompt -%}{{'<start_of_turn>model\\n'}}{%- endif -%}
            """
        XCTAssertEqual(ChatTemplate.detect(template), .gemma)
        let rendered = ChatTemplate.gemma.render([
            .system("Be brief."), .user("  Hi!\n"), .assistant("Hello."), .user("Bye"),
        ])
        XCTAssertEqual(rendered, """
            <start_of_turn>user
            Be brief.

            Hi!<end_of_turn>
            <start_of_turn>model
            Hello.<end_of_turn>
            <start_of_turn>user
            Bye<end_of_turn>
            <start_of_turn>model

            """)
        XCTAssertEqual(ChatTemplate.gemma.render([.user("Hi")], addGenerationPrompt: false),
                       "<start_of_turn>user\nHi<end_of_turn>\n")

        // This file carries no template; the architecture still picks Gemma's.
        let (file, tok) = try gemma()
        XCTAssertEqual(ChatTemplate.detect(from: file), .gemma)
        let ids = tok.encode(ChatTemplate.gemma.render([.user("Hi")]))
        XCTAssertEqual(Array(ids.prefix(2)), [2, 105])
        XCTAssertEqual(Array(ids.suffix(3)), [105, tok.encode("model", addBOS: false, parseSpecial: true)[0], 107])
    }

    // MARK: Speed (printed, not asserted)

    func testGemmaLoadAndEncodeSpeed() throws {
        let url = try TestPaths.model("gemma-3-270m-q4_k_m.gguf")
        var start = Date()
        let file = try GGUFFile(url: url)
        let parse = Date().timeIntervalSince(start)
        start = Date()
        let tok = try SentencePieceTokenizer(gguf: file)
        let build = Date().timeIntervalSince(start)
        print(String(format: "Gemma: GGUF open+metadata %.1f ms, tokenizer build %.1f ms", parse * 1000, build * 1000))

        // Inputs that stress the special-token cutter: long whitespace runs, many '<'.
        for (name, text) in [("100k spaces", String(repeating: " ", count: 100_000)),
                             ("10k '<td>x<unused'", String(repeating: "<td>x<unused", count: 10_000))] {
            start = Date()
            let ids = tok.encode(text, addBOS: false, parseSpecial: true)
            print(String(format: "Gemma: %@ → %d tokens in %.1f ms", name, ids.count,
                         Date().timeIntervalSince(start) * 1000))
            XCTAssertEqual(tok.decode(ids), text)
        }

        guard let aliceURL = try? TestPaths.sharedFile("reference/text/alice-ch1-3.txt"),
              let text = try? String(contentsOf: aliceURL, encoding: .utf8) else { return }
        start = Date()
        let ids = tok.encode(text, addBOS: false, parseSpecial: false)
        let encode = Date().timeIntervalSince(start)
        print(String(format: "Gemma: encoded %d bytes into %d tokens in %.1f ms (%.1f MB/s)",
                     text.utf8.count, ids.count, encode * 1000, Double(text.utf8.count) / encode / 1e6))
        XCTAssertEqual(tok.decode(ids), text)
    }
}
