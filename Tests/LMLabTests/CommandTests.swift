import XCTest
import LMLab

final class CommandTests: XCTestCase {
    func session() -> Session {
        Session(console: .capturing(), interrupt: Interrupt(), home: FileManager.default.temporaryDirectory)
    }

    func testSplitHonoursQuotes() throws {
        XCTAssertEqual(try Arguments.split(#"gen "Once upon" a 'b c' --max 4"#),
                       ["gen", "Once upon", "a", "b c", "--max", "4"])
        XCTAssertEqual(try Arguments.split("gen \"\"\"\nline \"one\"\nline two\n\"\"\""),
                       ["gen", "line \"one\"\nline two"])
        XCTAssertEqual(try Arguments.split(#"x "a\nb""#), ["x", "a\nb"])
    }

    func testDoubleQuotesReadEscapes() throws {
        // \r and \t are their characters (a CRLF stays two scalars), \uXXXX one BMP scalar,
        // a surrogate pair or \u{…} one scalar beyond it; other escaped characters stand for themselves.
        XCTAssertEqual(try Arguments.split(#"x "a\r\nb\tc""#), ["x", "a\r\nb\tc"])
        XCTAssertEqual(Array(try Arguments.split(#""\r\n""#)[0].unicodeScalars), ["\r", "\n"])
        XCTAssertEqual(try Arguments.split(#""caf\u00e9 \u4E2D""#), ["café 中"])
        XCTAssertEqual(try Arguments.split(#""\uD83D\uDE00 \u{1F600}!""#), ["😀 😀!"])
        XCTAssertEqual(try Arguments.split(#""say \"hi\" \\ \q""#), [#"say "hi" \ q"#])
        // single and triple quotes are verbatim
        XCTAssertEqual(try Arguments.split(#"'a\rb' """c\u00e9""""#), [#"a\rb"#, #"c\u00e9"#])
        let bad: [(String, String)] = [
            (#""\u12""#, #"bad escape \u12 in quotes: \u needs four hex digits, like \u00e9"#),
            (#""\u00g1""#, #"bad escape \u00g1 in quotes: \u needs four hex digits, like \u00e9"#),
            (#""\uD83D x""#, #"bad escape \uD83D in quotes: a high surrogate must be followed by a low one (\uDC00-\uDFFF)"#),
            (#""\uDE00""#, #"bad escape \uDE00 in quotes: a low surrogate without a high one"#),
            (#""\u{110000}""#, #"bad escape \u{110000} in quotes: expected 1-8 hex digits of a Unicode scalar, like \u{1F600}"#),
            (#""\u{}""#, #"bad escape \u{} in quotes: expected 1-8 hex digits of a Unicode scalar, like \u{1F600}"#),
        ]
        for (line, message) in bad {
            XCTAssertThrowsError(try Arguments.split(line), line) { e in
                XCTAssertEqual((e as? CommandError)?.description, message, line)
            }
        }
        XCTAssertThrowsError(try Arguments.split(#"gen "open"#)) { e in
            XCTAssertEqual((e as? CommandError)?.description, "unclosed quote \"")
        }
    }

    func testFlagsAreCheckedAgainstTheCommand() throws {
        let accepted = [Arguments.Flag("json", "print JSON"), Arguments.Flag("max", value: "N", "tokens")]
        let a = try Arguments(words: ["hello", "--max", "5", "world", "--json"], accepting: accepted)
        XCTAssertEqual(a.positionals, ["hello", "world"])
        XCTAssertEqual(a.text, "hello world")
        XCTAssertTrue(a.flag("json"))
        XCTAssertEqual(try a.number("max", in: 1...10), 5)
        let inline = try Arguments(words: ["--max=7"], accepting: accepted)
        XCTAssertEqual(try inline.number("max", in: 1...10), 7)
        XCTAssertThrowsError(try a.number("max", in: 6...10)) { e in
            XCTAssertEqual("\(e)", "option '--max' must be between 6 and 10, got 5")
        }
        XCTAssertThrowsError(try Arguments(words: ["--jsn"], accepting: accepted)) { e in
            XCTAssertEqual("\(e)", "unknown option '--jsn' — did you mean '--json'?")
        }
        XCTAssertThrowsError(try Arguments(words: ["--max"], accepting: accepted)) { e in
            XCTAssertEqual("\(e)", "option '--max' needs a value (N)")
        }
        let notNumber = try Arguments(words: ["--max", "lots"], accepting: accepted)
        XCTAssertThrowsError(try notNumber.number("max", in: 1...10) as Int?) { e in
            XCTAssertEqual("\(e)", "option '--max' expects a number, got 'lots'")
        }
    }

    func testUnknownCommandSuggestsTheClosest() {
        let s = session()
        XCTAssertFalse(s.run("hlep"))
        XCTAssertEqual(s.console.capturedErrors, "error: unknown command 'hlep' — did you mean 'help'?\n")
        s.console.reset()
        XCTAssertFalse(s.run("zzzzzz"))
        XCTAssertEqual(s.console.capturedErrors, "error: unknown command 'zzzzzz' — type 'help' for the list\n")
    }

    func testSlashAliasAndCommentsAndBlankLines() {
        let s = session()
        XCTAssertTrue(s.run("/help set"))
        XCTAssertTrue(s.console.captured.hasPrefix("set KEY VALUE | set KEY default\n"))
        XCTAssertTrue(s.run("   "))
        XCTAssertTrue(s.run("# a comment"))
        XCTAssertTrue(s.run("exit"))
        XCTAssertTrue(s.wantsToQuit)
    }

    func testHelpGroupsByTopic() {
        let s = session()
        XCTAssertTrue(s.run("help"))
        let out = s.console.captured
        XCTAssertTrue(out.hasPrefix("Session\n  help"))
        for c in s.registry.commands { XCTAssertTrue(out.contains("  \(c.name) "), "help lists \(c.name)") }
    }

    func testSettingsValidateAndRememberWhoSetThem() throws {
        let s = session()
        XCTAssertEqual(s.settings.value("temperature").source, .lab)
        s.settings.setModelDefaults(["max_tokens": "64", "top_k": "not a number"])
        XCTAssertEqual(s.settings.value("max_tokens").value, "64")
        XCTAssertEqual(s.settings.value("max_tokens").source, .model)
        XCTAssertEqual(s.settings.value("top_k").source, .lab, "an invalid model value is ignored")
        XCTAssertTrue(s.run("set max_tokens 10"))
        XCTAssertEqual(s.settings.int("max_tokens"), 10)
        XCTAssertEqual(s.settings.value("max_tokens").source, .user)
        XCTAssertTrue(s.run("set max_tokens default"))
        XCTAssertEqual(s.settings.value("max_tokens").source, .model)

        let bad: [(String, String)] = [
            ("set temperature 9", "error: temperature must be between 0.0 and 5.0, got 9"),
            ("set temperature hot", "error: temperature expects a number, got 'hot'"),
            ("set top_k -1", "error: top_k must be between 0 and 1000000, got -1"),
            ("set threads 1.5", "error: threads expects a whole number, got '1.5'"),
            ("set color blue", "error: color must be one of auto, off, got 'blue'"),
            ("set tempreature 1", "error: unknown setting 'tempreature' — did you mean 'temperature'?"),
            ("set seed", "error: usage: set KEY VALUE | set KEY default"),
        ]
        for (line, message) in bad {
            s.console.reset()
            XCTAssertFalse(s.run(line), line)
            XCTAssertEqual(s.console.capturedErrors, message + "\n", line)
        }
        XCTAssertEqual(s.settings.double("temperature"), 0.8, "a failed set changes nothing")
    }

    func testShowSettingsTellsSources() {
        let s = session()
        _ = s.run("set seed 7")
        s.console.reset()
        XCTAssertTrue(s.run("show settings"))
        let seedLine = s.console.captured.split(separator: "\n").first { $0.hasPrefix("seed ") }
        XCTAssertNotNil(seedLine)
        XCTAssertTrue(seedLine!.contains(" 7  user "), String(seedLine!))
        XCTAssertFalse(s.run("show nothing"))
    }

    func testCompletion() {
        let s = session()
        let r = s.registry
        XCTAssertEqual(r.completions(line: "he", session: s), ["help"])
        XCTAssertEqual(r.completions(line: "/se", session: s), ["/serve", "/set"])
        XCTAssertEqual(r.completions(line: "set top_", session: s), ["top_k", "top_p"])
        XCTAssertEqual(r.completions(line: "set color ", session: s), ["auto", "off", "default"])
        XCTAssertEqual(r.completions(line: "show ", session: s), ["settings"])
        XCTAssertEqual(r.completions(line: "nosuch ", session: s), [])
    }

    func testSplitCommandsForDashC() {
        XCTAssertEqual(InputAssembler.splitCommands("load tiny; gen \"a;b\" ;  ; help"),
                       ["load tiny", "gen \"a;b\"", "help"])
    }

    func testAssemblerJoinsTripleQuotedBlocks() {
        var a = InputAssembler()
        XCTAssertNil(a.feed("gen \"\"\""))
        XCTAssertTrue(a.isContinuing)
        XCTAssertNil(a.feed("two lines"))
        XCTAssertEqual(a.feed("\"\"\""), "gen \"\"\"\ntwo lines\n\"\"\"")
        XCTAssertFalse(a.isContinuing)
    }

    func testScriptStopsAtFirstFailure() {
        let s = session()
        let code = REPL.runCommands(["set seed 3", "set seed x", "set seed 4"], session: s)
        XCTAssertEqual(code, 1)
        XCTAssertEqual(s.settings.int("seed"), 3, "commands after a failure don't run")
    }
}
