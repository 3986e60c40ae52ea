import XCTest
import LMLab

final class RenderTests: XCTestCase {
    func testTableAlignsNumbersRightAndTextLeft() {
        var t = Table(["name", "type", "bytes"])
        t.add(["q_proj", "Q4_1", "20,480"])
        t.add(["token_embd", "Q8_0", "31,457,280"])
        XCTAssertEqual(t.render(), """
            name        type       bytes
            ──────────  ────  ──────────
            q_proj      Q4_1      20,480
            token_embd  Q8_0  31,457,280
            """)
    }

    func testTableCountsWideCharactersAsTwoColumns() {
        var t = Table(["piece", "id"])
        t.add(["日本", "1"])
        t.add(["ab", "22"])
        XCTAssertEqual(t.render(), """
            piece  id
            ─────  ──
            日本    1
            ab     22
            """)
    }

    func testBarDrawsEighths() {
        XCTAssertEqual(Charts.bar(1, max: 1, width: 4), "████")
        XCTAssertEqual(Charts.bar(0.5, max: 1, width: 4), "██")
        XCTAssertEqual(Charts.bar(1, max: 8, width: 1), "▏")      // 1/8 of one column
        XCTAssertEqual(Charts.bar(0.3, max: 1, width: 10), "███")  // 24 eighths
        XCTAssertEqual(Charts.bar(0.33, max: 1, width: 10), "███▎") // 26.4 → 26 eighths = 3 full + 2/8
        XCTAssertEqual(Charts.bar(0, max: 1, width: 10), "")
    }

    func testBarChartRows() {
        let chart = Charts.barChart([("the", 0.5), ("a", 0.25)], width: 8, format: { String(format: "%.2f", $0) })
        XCTAssertEqual(chart, """
            the  ████████ 0.50
            a    ████     0.25
            """)
    }

    func testSparklineMapsMinToLowestAndMaxToHighest() {
        XCTAssertEqual(Charts.sparkline([0, 1, 2, 3, 4, 5, 6, 7]), "▁▂▃▄▅▆▇█")
        XCTAssertEqual(Charts.sparkline([5, 5]), "▄▄")
        XCTAssertEqual(Charts.sparkline([1, .nan, 3]), "▁ █")
        XCTAssertEqual(Charts.sparkline([]), "")
    }

    func testHeatmapWithoutColourUsesShades() {
        let map = Charts.heatmap([[1, 0], [0.5, 0.25]], rowLabels: ["x", "yy"])
        XCTAssertEqual(map, """
            x  ██
            yy ▒▒░░
            """)
    }

    func testHeatmapWithColourUsesBackgrounds() {
        let console = Console.capturing(terminal: true, color: .on)
        let map = Charts.heatmap([[1, 0]], console: console)
        XCTAssertEqual(map, "\u{1B}[48;5;226m  \u{1B}[0m\u{1B}[48;5;233m  \u{1B}[0m")
    }

    func testProgressBarLine() {
        var now = 0.0
        let console = Console.capturing()
        let bar = ProgressBar(label: "ppl", total: 33, unit: "chunks", console: console, width: 10,
                              plainInterval: 5, clock: { now })
        XCTAssertEqual(bar.render(done: 11, elapsed: 2),
                       "ppl  ███▍        33%  11/33 chunks  5.5 chunks/s  ETA 0:04")
        // Off a terminal: a plain line at most every 5 s, and the final one.
        bar.update(1); now = 1; bar.update(2); now = 6; bar.update(20); now = 7; bar.update(25); bar.finish()
        let lines = console.captured.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("ppl  ██████"), String(lines[0]))
        XCTAssertTrue(lines[1].hasPrefix("ppl  ██████████ 100%  33/33"))
        XCTAssertFalse(console.captured.contains("\r"))
    }

    func testProgressBarRedrawsInPlaceOnATerminal() {
        let console = Console.capturing(terminal: true)
        let bar = ProgressBar(label: "pull", total: 4, console: console, width: 4, clock: { 1 })
        bar.update(2)
        XCTAssertTrue(console.captured.hasPrefix("\r\u{1B}[2Kpull  ██    50%  2/4"))
    }

    func testSanitizeMakesControlCharactersVisible() {
        XCTAssertEqual(TextUtil.sanitize("a\u{1B}[31mb\u{7}"), "a\\x1b[31mb\\x07")
        XCTAssertEqual(TextUtil.sanitize("line\nnext"), "line\\x0anext")
        XCTAssertEqual(TextUtil.sanitize("line\nnext", keepNewlines: true), "line\nnext")
        XCTAssertEqual(TextUtil.sanitize("\u{9B}x"), "\\x9bx")
        XCTAssertEqual(TextUtil.sanitize("naïve 🤖"), "naïve 🤖")
    }

    func testColourOnlyWhenAllowed() {
        let off = Console.capturing(terminal: true, color: .off)
        XCTAssertEqual(off.styled("x", .bold), "x")
        let on = Console.capturing(terminal: false, color: .on)
        XCTAssertEqual(on.styled("x", .bold, .red), "\u{1B}[1;31mx\u{1B}[0m")
        let auto = Console.capturing(terminal: false, color: .auto)
        XCTAssertEqual(auto.styled("x", .bold), "x", "auto never colours output that isn't a terminal")
    }

    func testNumberFormats() {
        XCTAssertEqual(TextUtil.grouped(1234567), "1,234,567")
        XCTAssertEqual(TextUtil.grouped(-1000), "-1,000")
        XCTAssertEqual(TextUtil.bytes(98_362_432), "93.8 MiB")
        XCTAssertEqual(TextUtil.count(134_515_008), "134.5M")
        XCTAssertEqual(TextUtil.clock(3723), "1:02:03")
        XCTAssertEqual(TextUtil.displayWidth("\u{1B}[1mab\u{1B}[0m"), 2)
        XCTAssertEqual(TextUtil.truncate("abcdef", to: 4), "abc…")
    }

    // MARK: fitting the terminal's width

    /// A console that lays text out as a terminal `columns` wide would (or a pipe, `terminal: false`).
    private func console(columns: Int, terminal: Bool = true, color: Console.ColorSetting = .off) -> Console {
        let c = Console.capturing(terminal: terminal, color: color)
        c.columns = columns
        return c
    }

    private func widestLine(_ text: String) -> Int {
        text.split(separator: "\n").map { TextUtil.displayWidth(String($0)) }.max() ?? 0
    }

    private var wideTable: Table {
        var t = Table(["prompt", "expected", "reply"])
        t.add(["734+58=", "792", "The answer to this sum is seven hundred and ninety-two, as any child who can carry a digit knows"])
        t.add(["810-2=", "808", "818"])
        return t
    }

    func testATableWiderThanTheTerminalCutsItsWidestTextColumn() {
        let natural = wideTable.render()
        XCTAssertGreaterThan(widestLine(natural), 80, "the test needs a table wider than 80 columns")
        let fitted = wideTable.render(console: console(columns: 80))
        XCTAssertEqual(widestLine(fitted), 80, fitted)
        let lines = fitted.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, "one line per row, nothing wrapped:\n\(fitted)")
        XCTAssertTrue(lines[2].hasPrefix("734+58=       792  The answer to this sum is seven"), lines[2])
        XCTAssertTrue(lines[2].hasSuffix("…"), lines[2])
        XCTAssertEqual(lines[3], "810-2=        808  818")
        // Wide enough: untouched. Not a terminal: untouched, whatever the width.
        XCTAssertEqual(wideTable.render(console: console(columns: 150)), natural)
        XCTAssertEqual(wideTable.render(console: console(columns: 80, terminal: false)), natural)
    }

    func testNumbersAreNeverCutToFitTheTerminal() {
        var t = Table(["figure", "value"])
        t.add(["a figure with a long name that could give up columns", "123,456,789"])
        let fitted = t.render(console: console(columns: 30))
        XCTAssertTrue(fitted.contains("123,456,789"), fitted)
        XCTAssertTrue(fitted.contains("a figure with a …  123,456,789"), fitted)
        XCTAssertEqual(widestLine(fitted), 30, fitted)
    }

    func testACutCellKeepsItsColourCodesAndEndsThem() {
        let red = "\u{1B}[31mabcdefghij\u{1B}[0m"
        let cut = TextUtil.truncateStyled(red, to: 5)
        XCTAssertEqual(cut, "\u{1B}[31mabcd…\u{1B}[0m")
        XCTAssertEqual(TextUtil.displayWidth(cut), 5)
        XCTAssertEqual(TextUtil.truncateStyled("日本語です", to: 5), "日本…")
        XCTAssertEqual(TextUtil.truncateStyled(red, to: 10), red, "what fits is left alone")
    }

    private let paragraph = String(repeating: "Decoding one token reads every weight the token passes through, once. ", count: 8)

    func testProseWrapsAtTheTerminalWidthUpToAReadableMeasure() {
        let at80 = MarkdownRenderer(console: console(columns: 80)).render(paragraph)
        XCTAssertLessThanOrEqual(widestLine(at80), 80, at80)
        XCTAssertGreaterThan(widestLine(at80), 70, "lines fill the 80 columns:\n\(at80)")
        let at150 = MarkdownRenderer(console: console(columns: 150)).render(paragraph)
        XCTAssertLessThanOrEqual(widestLine(at150), 100, "100 columns at most, however wide the terminal:\n\(at150)")
        XCTAssertGreaterThan(widestLine(at150), 88, "wider than the old fixed 88:\n\(at150)")
        // Every word whole, in order: wrapping only ever happens between words.
        for text in [at80, at150] {
            XCTAssertEqual(text.split(whereSeparator: { $0 == " " || $0 == "\n" }), paragraph.split(separator: " "))
        }
    }

    /// Underscores inside a word are letters (Q4_K_M, snake_case); around a word they are emphasis.
    func testUnderscoresInsideWordsStay() {
        let plain = MarkdownRenderer(console: console(columns: 100, terminal: false)).render("a 1B llama in Q4_K_M and tok_per_s")
        XCTAssertTrue(plain.contains("a 1B llama in Q4_K_M and tok_per_s"), plain)
        let colour = console(columns: 100, color: .on)
        let styled = MarkdownRenderer(console: colour).render("an _emphasised_ word")
        XCTAssertTrue(styled.contains("an " + colour.styled("emphasised", .italic) + " word"), styled)
        XCTAssertFalse(styled.contains("_"), styled)
    }

    func testProseInAPipeKeepsTodaysWidth() {
        let piped = MarkdownRenderer(console: console(columns: 150, terminal: false)).render(paragraph)
        XCTAssertLessThanOrEqual(widestLine(piped), 88, piped)
        XCTAssertGreaterThan(widestLine(piped), 80, piped)
    }

    func testAProgressBarFitsANarrowTerminal() {
        let narrow = console(columns: 40)
        let bar = ProgressBar(label: "eval", total: 100, unit: "problems", console: narrow, clock: { 1 })
        bar.update(50)
        bar.finish()
        for redraw in narrow.captured.split(separator: "\r") {
            let line = TextUtil.stripANSI(String(redraw)).trimmingCharacters(in: .newlines)
            XCTAssertEqual(TextUtil.displayWidth(line), 39, "one column left for the cursor: '\(line)'")
            XCTAssertTrue(line.hasPrefix("eval  ") && line.hasSuffix("…"), line)
        }
    }

    func testATableInProseFitsTheTerminal() {
        let prose = """
            | row | what it says |
            |---|---|
            | decode | \(paragraph) |
            """
        let fitted = MarkdownRenderer(console: console(columns: 80, color: .on)).render(prose)
        XCTAssertLessThanOrEqual(widestLine(fitted), 80, fitted)
        XCTAssertEqual(fitted.split(separator: "\n").count, 3, fitted)
        XCTAssertTrue(TextUtil.stripANSI(fitted).contains("decode  Decoding one token"), fitted)
    }
}
