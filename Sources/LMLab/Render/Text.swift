import Foundation
import LMEngine

/// Text helpers shared by the renderers.
public enum TextUtil {
    /// Makes a string that came from a file safe to print: control characters
    /// (C0, DEL, C1) become visible escapes such as `\x1b`, so a model file can't
    /// move the cursor, change colours or retitle the terminal.
    /// Newlines and tabs are kept only when `keepNewlines` is true.
    public static func sanitize(_ s: String, keepNewlines: Bool = false) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if keepNewlines && (v == 0x0A || v == 0x09) { out.append(scalar); continue }
            if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) {
                let hex = String(v, radix: 16)
                for c in "\\x" + (hex.count == 1 ? "0" + hex : hex) { out.append(contentsOf: c.unicodeScalars) }
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Why a file operation failed, in one line and the system's words ("No space
    /// left on device", "File too large"). Foundation's own text for a failed
    /// write is "The operation could not be completed. (NSCocoaErrorDomain error
    /// 512.)"; the cause is the POSIX error it keeps underneath.
    public static func reason(for error: Error) -> String {
        if case let GGUFError.cannotOpen(_, reason) = error { return sanitize(reason) }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        // `as? Error`, not `as? NSError`: on Linux the underlying error may be a
        // Swift value (POSIXError) that a cast to NSError out of Any doesn't bridge.
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? Error { return reason(for: underlying) }
        if ns.domain == NSCocoaErrorDomain { return sanitize(ns.localizedDescription) }
        return sanitize(String(describing: error))
    }

    /// Removes ANSI escape sequences (for measuring or for plain output).
    public static func stripANSI(_ s: String) -> String {
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            if c == "\u{1B}" {
                // CSI: ESC [ params final-byte(@-~)
                if let n = it.next(), n == "[" {
                    while let p = it.next() { if let a = p.asciiValue, (0x40...0x7E).contains(a) { break } }
                }
                continue
            }
            out.append(c)
        }
        return out
    }

    /// Terminal output as it finally looks, for saving: escape sequences removed,
    /// and on each line only what was written after its last carriage return
    /// (a progress bar redrawn in place keeps its final state).
    public static func plain(_ s: String) -> String {
        let lines = stripANSI(s).unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.map { line -> String in
            let last = line.split(separator: "\r", omittingEmptySubsequences: false).last { !$0.isEmpty }
            return last.map { String(String.UnicodeScalarView($0)) } ?? ""
        }.joined(separator: "\n")
    }

    /// Columns a string takes in a terminal: wide (CJK, emoji) characters count
    /// two, combining marks zero, escape sequences nothing.
    public static func displayWidth(_ s: String) -> Int {
        var width = 0
        for c in stripANSI(s) {
            guard let first = c.unicodeScalars.first else { continue }
            let v = first.value
            if first.properties.generalCategory == .nonspacingMark { continue }
            if c.unicodeScalars.contains(where: { $0.properties.isEmojiPresentation }) { width += 2; continue }
            if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v) {
                width += 2
            } else {
                width += 1
            }
        }
        return width
    }

    public static func pad(_ s: String, to width: Int, right: Bool = false) -> String {
        let gap = max(0, width - displayWidth(s))
        let fill = String(repeating: " ", count: gap)
        return right ? fill + s : s + fill
    }

    /// Cuts a string to at most `width` columns, ending with … when cut.
    public static func truncate(_ s: String, to width: Int) -> String {
        guard displayWidth(s) > width else { return s }
        var out = ""
        var used = 0
        for c in s {
            let w = displayWidth(String(c))
            if used + w > width - 1 { break }
            out.append(c); used += w
        }
        return out + "…"
    }

    /// `truncate` for text that may carry colour codes: the codes take no columns and
    /// are kept, and a cut string ends with … and a reset, so a colour never runs on
    /// into the next column.
    public static func truncateStyled(_ s: String, to width: Int) -> String {
        guard displayWidth(s) > width else { return s }
        var out = ""
        var used = 0
        var styled = false
        var it = s.makeIterator()
        while let c = it.next() {
            if c == "\u{1B}" {   // CSI: ESC [ params final-byte(@-~), copied whole
                out.append(c); styled = true
                guard let n = it.next() else { break }
                out.append(n)
                if n == "[" {
                    while let p = it.next() {
                        out.append(p)
                        if let a = p.asciiValue, (0x40...0x7E).contains(a) { break }
                    }
                }
                continue
            }
            let w = displayWidth(String(c))
            if used + w > width - 1 { break }
            out.append(c); used += w
        }
        return out + "…" + (styled ? "\u{1B}[0m" : "")
    }

    /// 1234567 → "1,234,567".
    public static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    /// Bytes in binary units: "93.8 MiB".
    public static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
    }

    /// Large counts the way model cards say them: 134.5M, 1.2B, 950K.
    public static func count(_ n: Int) -> String {
        let v = Double(n)
        if v >= 1e9 { return String(format: "%.2fB", v / 1e9) }
        if v >= 1e6 { return String(format: "%.1fM", v / 1e6) }
        if v >= 1e3 { return String(format: "%.1fK", v / 1e3) }
        return "\(n)"
    }

    /// Seconds as "0:07", "1:02:03".
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }
}
