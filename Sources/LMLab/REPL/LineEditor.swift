import CEditLine
import Foundation

/// The prompt, through libedit's readline-compatible API: line editing,
/// persistent history, Tab completion, and Ctrl-C that clears the line.
///
/// libedit keeps global state and calls back through C function pointers that
/// can't capture context, so the completion source and the interrupt result
/// live in statics. There is one line editor per process.
final class LineEditor {
    enum Input { case line(String), interrupted(lineWasEmpty: Bool), endOfInput }

    /// Supplies candidates for the word under the cursor, given the line up to it.
    nonisolated(unsafe) static var completer: ((String) -> [String])?
    nonisolated(unsafe) private static var candidates: [String] = []
    nonisolated(unsafe) fileprivate static var interruptedWhileReading = false

    let historyFile: URL
    static let historyLimit: Int32 = 1000

    init(historyFile: URL) {
        self.historyFile = historyFile
        try? FileManager.default.createDirectory(at: historyFile.deletingLastPathComponent(),
                                                 withIntermediateDirectories: true)
        // Our SIGINT handler, not libedit's: it only sets the interrupt flag,
        // and our getc turns that into "line abandoned".
        // libedit decides which characters are printable from the locale:
        // without a UTF-8 one it drops "é". Prefer the user's, else C.UTF-8.
        let current = setlocale(LC_CTYPE, "").map { String(cString: $0) } ?? ""
        if !current.uppercased().contains("UTF-8") && !current.uppercased().contains("UTF8") {
            _ = setlocale(LC_CTYPE, "C.UTF-8")
        }
        rl_catch_signals = 0
        rl_getc_function = lineEditorGetc
        rl_attempted_completion_function = lineEditorComplete
        rl_initialize()
        stifle_history(LineEditor.historyLimit)
        _ = historyFile.path.withCString { read_history($0) }
    }

    func read(prompt: String) -> Input {
        LineEditor.interruptedWhileReading = false
        LineEditor.charactersRead = 0
        Interrupt.shared.reset()
        guard let raw = readline(prompt) else {
            if LineEditor.interruptedWhileReading {
                let empty = LineEditor.charactersRead == 0
                Interrupt.shared.reset()
                return .interrupted(lineWasEmpty: empty)
            }
            return .endOfInput
        }
        defer { free(raw) }
        return .line(String(cString: raw))
    }

    /// Adds a line to the history and saves the file (stifled to the limit,
    /// so it can't grow without bound). Written beside the file and renamed
    /// over it, so a crash or a full disk mid-write never truncates it.
    func remember(_ line: String) {
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        _ = line.withCString { add_history($0) }
        let temporary = historyFile.path + ".partial"
        if temporary.withCString({ write_history($0) }) == 0 {
            _ = rename(temporary, historyFile.path)
        } else {
            unlink(temporary)
        }
    }

    /// Keys read during the current prompt. Ctrl-C with none typed since the
    /// prompt appeared (e.g. a second Ctrl-C) prints how to leave. (libedit
    /// doesn't keep rl_end current while reading, so we count ourselves.)
    nonisolated(unsafe) fileprivate static var charactersRead = 0

    fileprivate static func makeMatches(_ text: UnsafePointer<CChar>?, _ start: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        let lineUpToCursor: String
        if let buffer = rl_line_buffer {
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self),
                                                  count: Int(rl_point)))
            lineUpToCursor = String(decoding: bytes, as: UTF8.self)
        } else {
            lineUpToCursor = text.map { String(cString: $0) } ?? ""
        }
        candidates = completer?(lineUpToCursor) ?? []
        rl_attempted_completion_over = 1   // no filename completion as a fallback
        guard !candidates.isEmpty else { return nil }
        return rl_completion_matches(text, lineEditorGenerate)
    }

    fileprivate static func generate(_ state: Int32) -> UnsafeMutablePointer<CChar>? {
        let i = Int(state)
        guard i < candidates.count else { return nil }
        return strdup(candidates[i])
    }
}

/// Reads one character for libedit, as a Unicode code point (libedit stores
/// what this returns as a wchar_t, so UTF-8 is decoded here). Returns EOF when
/// Ctrl-C was pressed, which ends readline() with NULL; the flag tells that
/// apart from Ctrl-D.
private let lineEditorGetc: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { _ in
    func byte() -> Int32? {
        var b: UInt8 = 0
        while true {
            if Interrupt.shared.isSet {
                LineEditor.interruptedWhileReading = true
                return nil
            }
            let n = Foundation.read(STDIN_FILENO, &b, 1)
            if n == 1 { return Int32(b) }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }
    guard let first = byte() else { return -1 }
    LineEditor.charactersRead += 1
    let extra: Int
    var value: Int32
    switch first {
    case 0..<0x80: return first
    case 0xC0..<0xE0: extra = 1; value = first & 0x1F
    case 0xE0..<0xF0: extra = 2; value = first & 0x0F
    case 0xF0..<0xF8: extra = 3; value = first & 0x07
    default: return 0xFFFD
    }
    for _ in 0..<extra {
        guard let next = byte() else { return -1 }
        guard next & 0xC0 == 0x80 else { return 0xFFFD }
        value = (value << 6) | (next & 0x3F)
    }
    return value
}

private let lineEditorComplete: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, start, _ in
    LineEditor.makeMatches(text, start)
}

private let lineEditorGenerate: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = { _, state in
    LineEditor.generate(state)
}
