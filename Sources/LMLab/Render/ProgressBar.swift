import Foundation

/// Progress of a long job (pull, ppl, train).
///
/// On a terminal it redraws one line in place:
///     ppl  ███████████▌        58%  19/33 chunks  4.1 chunks/s  ETA 0:03
/// Elsewhere (scripts, CI logs) it prints a plain line at most every
/// `plainInterval` seconds, and always at the end.
public final class ProgressBar {
    let label: String
    let total: Double
    let unit: String
    let console: Console
    let width: Int
    let plainInterval: Double
    let clock: () -> Double
    let start: Double
    var lastPrint: Double
    var lastPrintedDone: Double = -1
    var finished = false
    /// How amounts are written: bytes as MiB, plain counts as integers.
    let formatAmount: (Double) -> String

    public init(label: String, total: Double, unit: String = "", console: Console, width: Int = 24,
                plainInterval: Double = 5, clock: @escaping () -> Double = { Date().timeIntervalSinceReferenceDate },
                formatAmount: ((Double) -> String)? = nil, startedAt: Double? = nil) {
        self.label = label; self.total = total; self.unit = unit; self.console = console
        self.width = width; self.plainInterval = plainInterval; self.clock = clock
        self.formatAmount = formatAmount ?? { String(Int($0)) }
        // A bar made when the first unit of work reports (when the total is first known)
        // counts from when the work started, or its first rate would divide by almost nothing.
        self.start = startedAt ?? clock()
        self.lastPrint = self.start
    }

    /// The text of the line for `done` units of work after `elapsed` seconds.
    public func render(done: Double, elapsed: Double) -> String {
        let fraction = total > 0 ? min(1, max(0, done / total)) : 0
        let rate = elapsed > 0 ? done / elapsed : 0
        let eta = rate > 0 ? (total - done) / rate : .infinity
        let bar = Charts.bar(fraction, max: 1, width: width)
        let padded = bar + String(repeating: " ", count: max(0, width - TextUtil.displayWidth(bar)))
        let unitSuffix = unit.isEmpty ? "" : " " + unit
        let rateText = rate >= 10 ? String(format: "%.0f", rate) : String(format: "%.1f", rate)
        return "\(label)  \(padded) \(String(format: "%3.0f%%", fraction * 100))  "
            + "\(formatAmount(done))/\(formatAmount(total))\(unitSuffix)  \(rateText)\(unitSuffix)/s  ETA \(TextUtil.clock(eta))"
    }

    public func update(_ done: Double) {
        let now = clock()
        if console.isTerminal {
            console.write("\r\u{1B}[2K" + fitted(render(done: done, elapsed: now - start)))
        } else if now - lastPrint >= plainInterval {
            lastPrint = now
            lastPrintedDone = done
            console.line(render(done: done, elapsed: now - start))
        }
    }

    /// The line cut to the terminal's width (less one column, where the cursor waits):
    /// a line the terminal wraps can't be redrawn in place, and each redraw would leave
    /// a line behind.
    func fitted(_ line: String) -> String { TextUtil.truncate(line, to: max(10, console.width - 1)) }

    /// Ends the bar: the final state on its own line.
    public func finish(_ done: Double? = nil) {
        guard !finished else { return }
        finished = true
        let final = done ?? total
        let line = render(done: final, elapsed: clock() - start)
        if console.isTerminal { console.write("\r\u{1B}[2K" + fitted(line) + "\n") }
        else if lastPrintedDone != final { console.line(line) }
    }
}
