import Foundation
import XCTest
import LMEngine

/// The hand-written splitter against Tests/Fixtures/pretokenizer-splits.json: each pre-tokenizer
/// family's words for 30 varied texts (prose, contractions in both cases, code, digits, CRLF and
/// whitespace runs, CJK, Cyrillic, Arabic, Devanagari with combining marks, emoji sequences),
/// computed by scripts/pretokenizer-fixture.py with Python's `regex` engine from the patterns
/// llama.cpp's llama-vocab.cpp gives each family.
final class PreTokenizerTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable { let text: String; let words: [String: [String]] }
        let cases: [Case]
    }

    func testSplitsMatchTheRegexReference() throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: TestPaths.fixture("pretokenizer-splits.json")))
        XCTAssertEqual(fixture.cases.count, 30)
        var compared = 0
        for c in fixture.cases {
            let scalars = Array(c.text.unicodeScalars)
            for (name, expected) in c.words.sorted(by: { $0.key < $1.key }) {
                let pre = try XCTUnwrap(PreTokenizer(name: name), name)
                let words = pre.split(scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
                XCTAssertEqual(words, expected, "\(name): \(c.text.debugDescription)")
                compared += 1
            }
        }
        XCTAssertEqual(compared, 30 * 6)
    }

    func testLlamaCppNamesMapToTheirFamily() throws {
        XCTAssertEqual(PreTokenizer(name: "default"), .llamaDefault)
        XCTAssertEqual(PreTokenizer(name: "llama-bpe"), .llama3(digits: 3))
        XCTAssertEqual(PreTokenizer(name: "qwen2"), .llama3(digits: 1))
        XCTAssertEqual(PreTokenizer(name: "deepseek-r1-qwen"), .llama3(digits: 1))
        XCTAssertEqual(PreTokenizer(name: "dbrx"), .llama3(digits: 3))
        XCTAssertEqual(PreTokenizer(name: "poro-chat"), .llama3(digits: nil))
        XCTAssertEqual(PreTokenizer(name: "smollm"), .digitsThenGPT2)
        XCTAssertEqual(PreTokenizer(name: "olmo"), .gpt2)
        XCTAssertEqual(PreTokenizer(name: nil), .gpt2)
        XCTAssertNil(PreTokenizer(name: "deepseek-coder"))
        XCTAssertEqual("\(TokenizerError.unsupportedPreTokenizer("deepseek-coder"))",
                       "tokenizer.ggml.pre 'deepseek-coder' is not supported (\(PreTokenizer.supportedNames.count) names are, among them default, gpt2, llama-bpe, qwen2, smollm)")
        XCTAssertTrue(PreTokenizer.supportedNames.contains("default"))
    }

    /// A byte-level vocabulary with "hello" and " world" as tokens but no merge that builds them.
    func tokenizer(pre: String, addBOS: Bool? = nil) throws -> (Tokenizer, (String) -> Int32) {
        // GPT-2's byte alphabet: printable Latin-1 stands for itself, the other bytes take U+0100 on, in order.
        let printable = { (b: Int) in (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) }
        let byteChars = (0..<256).map { b in
            printable(b) ? String(Unicode.Scalar(UInt8(b))) : String(Unicode.Scalar(UInt32(256 + (0..<b).filter { !printable($0) }.count))!)
        }
        let tokens = ["<|begin_of_text|>"] + byteChars + ["hello", "Ġworld", "12", "123"]
        var w = GGUFWriter()
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string(pre))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
        w.set("tokenizer.ggml.token_type", .array(GGUFArray(int32s: [3] + [Int32](repeating: 1, count: tokens.count - 1))))
        w.set("tokenizer.ggml.merges", .array(GGUFArray(strings: ["1 2"])))
        w.set("tokenizer.ggml.bos_token_id", .uint32(0))
        if let addBOS { w.set("tokenizer.ggml.add_bos_token", .bool(addBOS)) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-pre-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try w.write(to: url)
        let tok = try TokenizerFactory.make(from: try GGUFFile(url: url))
        return (tok, { Int32(tokens.firstIndex(of: $0)!) })
    }

    func testLlama3TakesWholeTokenWordsAndStartsWithBOS() throws {
        // llama-bpe: ignore_merges (a word that is a token is that token) and BOS unless the file says no.
        let (llama3, id) = try tokenizer(pre: "llama-bpe")
        XCTAssertEqual(llama3.encode("hello world 1234"), [0, id("hello"), id("Ġworld"), id("Ġ"), id("123"), id("4")])
        let (noBOS, _) = try tokenizer(pre: "llama-bpe", addBOS: false)
        XCTAssertEqual(noBOS.encode("hello"), [id("hello")])
        // qwen2 runs the merges (none build "hello") and adds no BOS by default; digits one by one.
        let (qwen2, _) = try tokenizer(pre: "qwen2")
        XCTAssertEqual(qwen2.encode("hello 12"), ["h", "e", "l", "l", "o", "Ġ", "1", "2"].map(id))
        // default (a gguf-written llama vocabulary): punctuation apart, then GPT-2, digits in threes.
        let (plain, _) = try tokenizer(pre: "default")
        XCTAssertEqual(plain.encode("it's 1234"), ["i", "t", "'", "s", "Ġ", "12", "3", "4"].map(id))
    }
}
