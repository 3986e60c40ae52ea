import Foundation

/// Where every command writes. The REPL and scripts use the process's
/// stdout/stderr; tests use `Console.capturing()` and read `captured`.
///
/// Colour only when the output is a terminal, NO_COLOR is unset, and the
/// `color` setting isn't `off`. (`.on` forces colour; only tests use it.)
public final class Console: @unchecked Sendable {
    public enum Sink { case standard, capture }
    public let sink: Sink
    /// Whether stdout is a terminal: progress bars redraw in place only then.
    public let isTerminal: Bool
    public var colorSetting: ColorSetting = .auto
    private(set) public var captured = ""
    private(set) public var capturedErrors = ""
    private let lock = NSLock()
    /// Open recordings (`startRecording`): everything written, errors included,
    /// is also appended to each of them, so a session can be saved as a notebook.
    private var recordings: [Int: String] = [:]
    private var nextRecording = 0

    public enum ColorSetting: String, CaseIterable, Sendable { case auto, on, off }

    public init(sink: Sink = .standard, isTerminal: Bool? = nil) {
        self.sink = sink
        self.isTerminal = isTerminal ?? (sink == .standard && isatty(STDOUT_FILENO) == 1)
    }

    public static func capturing(terminal: Bool = false, color: ColorSetting = .off) -> Console {
        let c = Console(sink: .capture, isTerminal: terminal)
        c.colorSetting = color
        return c
    }

    public var useColor: Bool {
        switch colorSetting {
        case .off: return false
        case .on: return true
        case .auto:
            return isTerminal && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
        }
    }

    /// Columns to lay text out for, when set: a test renders "a terminal 80 (or 150)
    /// columns wide" this way without one. Nil: the terminal's own width.
    public var columns: Int?

    /// Terminal width in columns (80 when unknown).
    public var width: Int {
        if let columns { return columns }
        if sink == .standard, isTerminal {
            var ws = winsize()
            if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 20 { return Int(ws.ws_col) }
        }
        if let cols = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), cols > 20 { return cols }
        return 80
    }

    /// Writes text as is (no newline added), flushing so streamed tokens show at once.
    public func write(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        record(text)
        switch sink {
        case .capture: captured += text
        case .standard:
            // The throwing write, ignoring failure: the old `write(_:)` traps on a
            // failed write, so a closed terminal (EIO) crashed the lab on its way
            // out instead of letting it read end of input and leave.
            try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        }
    }

    public func line(_ text: String = "") { write(text + "\n") }

    /// An error line on stderr: `error: message`.
    public func error(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        let text = "error: \(message)\n"
        record(text)
        switch sink {
        case .capture: capturedErrors += text
        case .standard: try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
        }
    }

    /// A notice on stderr that isn't a failure (hints, warnings).
    public func note(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        record(message + "\n")
        switch sink {
        case .capture: capturedErrors += message + "\n"
        case .standard: try? FileHandle.standardError.write(contentsOf: Data((message + "\n").utf8))
        }
    }

    /// Empties the capture buffers (tests).
    public func reset() {
        lock.lock(); defer { lock.unlock() }
        captured = ""; capturedErrors = ""
    }

    // MARK: recording — what `save FILE.md` writes

    /// Starts collecting everything written from now on; returns the recording's id.
    public func startRecording() -> Int {
        lock.lock(); defer { lock.unlock() }
        nextRecording += 1
        recordings[nextRecording] = ""
        return nextRecording
    }

    /// Ends a recording and returns what was written during it, as plain text:
    /// colour codes removed and progress-bar redraws (`\r`) reduced to their last state.
    public func stopRecording(_ id: Int) -> String {
        lock.lock(); defer { lock.unlock() }
        let raw = recordings.removeValue(forKey: id) ?? ""
        return TextUtil.plain(raw)
    }

    /// Called with the lock held.
    private func record(_ text: String) {
        guard !recordings.isEmpty else { return }
        for key in recordings.keys { recordings[key]! += text }
    }

    // MARK: styling — plain text whenever colour is off

    public enum Style: String {
        case bold = "1", dim = "2", italic = "3", underline = "4"
        case red = "31", green = "32", yellow = "33", blue = "34", magenta = "35", cyan = "36", gray = "90"
    }

    public func styled(_ text: String, _ styles: Style...) -> String {
        guard useColor, !styles.isEmpty else { return text }
        return "\u{1B}[" + styles.map(\.rawValue).joined(separator: ";") + "m" + text + "\u{1B}[0m"
    }

    /// 256-colour foreground/background, for heatmaps and token colouring.
    public func colored(_ text: String, foreground: Int? = nil, background: Int? = nil) -> String {
        guard useColor else { return text }
        var codes: [String] = []
        if let f = foreground { codes.append("38;5;\(f)") }
        if let b = background { codes.append("48;5;\(b)") }
        guard !codes.isEmpty else { return text }
        return "\u{1B}[" + codes.joined(separator: ";") + "m" + text + "\u{1B}[0m"
    }
}
