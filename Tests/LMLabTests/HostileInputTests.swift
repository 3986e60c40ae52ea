import Foundation
import XCTest

/// Input nobody should type, through the real binary: each gets a one-line
/// error (or nothing), and the commands after it still run in the REPL's way.
final class HostileInputTests: XCTestCase {
    func testHugeLineBinaryJunkAndInvalidUTF8() throws {
        var input = Data()
        input += Data(String(repeating: "x", count: 1_000_000).utf8) + Data("\n".utf8)
        input += Data((1...255).map { UInt8($0) }.filter { $0 != 10 }) + Data("\n".utf8)
        input += Data([0x73, 0x65, 0x74, 0x20, 0xFF, 0xFE, 0x20, 0x31, 0x0A])   // "set \xff\xfe 1"
        let started = Date()
        for chunk in [input] {
            let r = try BinaryRunner.run([], stdin: String(decoding: chunk, as: UTF8.self))
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.stderr.filter { $0 == "\n" }.count, 1, "stops at the first failure, one line: \(r.stderr.prefix(300))")
            XCTAssertTrue(r.stderr.hasPrefix("error: unknown command 'xxxxxxxx"), String(r.stderr.prefix(200)))
            XCTAssertLessThan(r.stderr.count, 200, "the huge word is cut in the message")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        // Each line alone, as separate runs: junk and invalid UTF-8 are errors, not crashes.
        let junk = try BinaryRunner.run(["-c", String(decoding: (1...255).map { UInt8($0) }.filter { $0 != 10 && $0 != 59 }, as: UTF8.self)])
        XCTAssertEqual(junk.status, 1)
        XCTAssertTrue(junk.stderr.hasPrefix("error: "), junk.stderr)
        XCTAssertFalse(junk.stderr.contains("\u{1B}"), "control characters from the input are never echoed raw")
        let badSetting = try BinaryRunner.run(["-c", "set \u{FFFD}\u{FFFD} 1"])
        XCTAssertEqual(badSetting.stderr, "error: unknown setting '\u{FFFD}\u{FFFD}'\n")
    }

    func testEmptyAndBlankInput() throws {
        let r = try BinaryRunner.run([], stdin: "\n\n   \n\t\n# only a comment\n")
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(r.stderr, "")
    }

    func testUnclosedBlockAtEndOfScript() throws {
        let r = try BinaryRunner.run([], stdin: "help \"\"\"\nset\n")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: unclosed \"\"\" block\n")
    }
}
