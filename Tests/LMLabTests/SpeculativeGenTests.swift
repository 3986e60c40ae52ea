import Foundation
import XCTest
import LMEngine
import LMLab

/// `gen --draft MODEL` and `gen --lookup N`: the figures, the colouring of kept draft
/// tokens, and the one-line refusals.
final class SpeculativeGenTests: XCTestCase {
    static let smollm2File = "SmolLM2-135M-Instruct.Q4_1"
    static let repetitive = "gen \"red, green, blue, red, green, blue, red, green,\" --temp 0 --max 24"

    func session(color: Console.ColorSetting = .off) throws -> Session {
        let s = Session(console: .capturing(terminal: true, color: color), interrupt: Interrupt(),
                        home: FileManager.default.temporaryDirectory)
        XCTAssertTrue(s.run("load \(try MultiModelTests.smollm2.path) --context 256"), s.console.capturedErrors)
        s.console.colorSetting = color   // after load, which applies the settings' colour (auto)
        s.console.reset()
        return s
    }

    func lastJSON(_ output: String) throws -> [String: Any] {
        let line = try XCTUnwrap(output.split(separator: "\n").last { $0.hasPrefix("{") })
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    func testLookupGivesPlainGreedyTextAndItsFigures() throws {
        let s = try session()
        XCTAssertTrue(s.run(Self.repetitive + " --json"), s.console.capturedErrors)
        let plain = try lastJSON(s.console.captured)
        s.console.reset()
        XCTAssertTrue(s.run(Self.repetitive + " --lookup 3 --json"), s.console.capturedErrors)
        let spec = try lastJSON(s.console.captured)
        XCTAssertEqual(spec["generated_ids"] as? [Int], plain["generated_ids"] as? [Int])
        XCTAssertEqual(spec["identical_to_plain"] as? Bool, true)
        let drafted = try XCTUnwrap(spec["drafted"] as? Int), accepted = try XCTUnwrap(spec["accepted"] as? Int)
        XCTAssertGreaterThan(accepted, drafted / 2, "the colours repeat: lookup should be right most of the time")
        XCTAssertEqual(try XCTUnwrap(spec["acceptance_rate"] as? Double), Double(accepted) / Double(drafted), accuracy: 1e-9)
        XCTAssertEqual((spec["acceptance_by_position"] as? [Double])?.count, 4)
        XCTAssertGreaterThan(try XCTUnwrap(spec["plain_tokens_per_s"] as? Double), 0)
        XCTAssertEqual(s.figures["identical"], 1)
        XCTAssertEqual(s.figures["accepted"], Double(accepted))
    }

    /// Kept draft tokens are coloured (256-colour 114) with colour on, and nothing is with it off.
    func testKeptDraftTokensAreColouredOnlyWithColour() throws {
        let on = try session(color: .on)
        XCTAssertTrue(on.run(Self.repetitive + " --lookup 3"), on.console.capturedErrors)
        XCTAssertTrue(on.console.captured.contains("\u{1B}[38;5;114m"), on.console.captured)
        let off = try session(color: .off)
        XCTAssertTrue(off.run(Self.repetitive + " --lookup 3"), off.console.capturedErrors)
        let text = off.console.captured
        XCTAssertFalse(text.contains("\u{1B}["), text)
        XCTAssertTrue(text.contains("acceptance by draft position"), text)
        XCTAssertTrue(text.contains("identical to plain greedy decoding, token for token"), text)
        XCTAssertTrue(text.contains("tokens/s with drafting"), text)
    }

    /// The current model drafting for itself (a copy with its own cache) keeps every token; auto grows K.
    func testSmolLM2DraftingForItself() throws {
        let s = try session()
        XCTAssertTrue(s.run("gen Once upon a time --temp 0 --max 24 --draft \(Self.smollm2File) --draft-n auto --json"), s.console.capturedErrors)
        let spec = try lastJSON(s.console.captured)
        XCTAssertEqual(spec["acceptance_rate"] as? Double, 1)
        XCTAssertEqual(spec["identical_to_plain"] as? Bool, true)
        XCTAssertEqual(spec["draft_n"] as? String, "auto")
        XCTAssertGreaterThan((spec["acceptance_by_position"] as? [Double])?.count ?? 0, 4)
    }

    func testDifferentVocabularyAndBadFlagsAreRefusedInOneLine() throws {
        let s = try session()
        XCTAssertTrue(s.run("load \(try MultiModelTests.model("tiny-stories.gguf").path) as small"), s.console.capturedErrors)
        XCTAssertTrue(s.run("use \(Self.smollm2File)"))
        let cases = [
            ("gen hi --draft small", "small can't draft for \(Self.smollm2File): its vocabulary has 1,024 tokens, \(Self.smollm2File)'s 49,152"),
            ("gen hi --draft small --lookup 2", "choose --draft MODEL or --lookup N, not both"),
            ("gen hi --lookup 2 --draft-n 0", "--draft-n is a number of tokens from 1 to 16, or auto, not '0'"),
            ("gen hi --draft-n 3", "--draft-n goes with --draft MODEL"),
            ("gen hi --lookup 2 --probs", "--probs doesn't go with --draft or --lookup"),
        ]
        for (command, message) in cases {
            s.console.reset()
            XCTAssertFalse(s.run(command), command)
            XCTAssertEqual(s.console.capturedErrors, "error: \(message)\n", command)
        }
    }
}
