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
}
