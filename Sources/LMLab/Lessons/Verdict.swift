import Foundation

/// The lines of a lab cell that turn its measurements into words (see `Notebook`):
///
///     look: which model answers "Paris", and how much slower the larger one decodes
///     capture: apgr /APGR[^0-9]*([0-9.]+)/
///     keep: gemma_tg = tg_tps
///     verdict: gemma3 decodes {smol_tg / gemma_tg:1}× slower than smollm2
///     verdict if gemma_tg > smol_tg: the larger model is the faster one here — unusual; look at the threads
///
/// After a cell's commands ran: captures read numbers from its output, keeps store
/// figures for later cells, the `expect:` checks run, then every verdict whose
/// condition holds is printed with its `{EXPRESSION}` or `{EXPRESSION:DECIMALS}`
/// filled from the figures just measured.
public struct Capture: CustomStringConvertible {
    public let name: String
    let regex: NSRegularExpression
    let source: String
    public var description: String { "\(name) \(source)" }

    /// Whether the figure is 1 or 0 for "the output matches" (`NAME ?/REGEX/`) instead of a number read.
    let presence: Bool

    /// `NAME /REGEX/`: the first group (or the whole match) read as a number;
    /// `NAME ?/REGEX/`: 1 when the output matches, 0 when it doesn't.
    public static func parse(_ text: String) throws -> Capture {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let space = t.firstIndex(of: " ") else { throw CheckError("expected 'NAME /REGEX/' or 'NAME ?/REGEX/', got '\(t)'") }
        let name = String(t[..<space])
        try Keep.checkName(name)
        var pattern = t[space...].trimmingCharacters(in: .whitespaces)
        let presence = pattern.hasPrefix("?")
        if presence { pattern.removeFirst() }
        guard pattern.hasPrefix("/"), case .matches(let regex, false, let source) = try Check.parse(pattern) else {
            throw CheckError("expected 'NAME /REGEX/' or 'NAME ?/REGEX/', got '\(t)'")
        }
        return Capture(name: name, regex: regex, source: (presence ? "?" : "") + source, presence: presence)
    }

    /// The number captured from `output` (colour codes removed), or why there is none.
    public func value(in output: String) -> Result<Double, CheckError> {
        let plain = TextUtil.stripANSI(output)
        let m = regex.firstMatch(in: plain, range: NSRange(plain.startIndex..., in: plain))
        if presence { return .success(m == nil ? 0 : 1) }
        guard let m else {
            return .failure(CheckError("capture \(name): the output doesn't match \(source)"))
        }
        let range = m.numberOfRanges > 1 && m.range(at: 1).location != NSNotFound ? m.range(at: 1) : m.range
        let text = Range(range, in: plain).map { String(plain[$0]) } ?? ""
        let cleaned = text.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "%", with: "")
            .replacingOccurrences(of: "−", with: "-").trimmingCharacters(in: .whitespaces)
        guard let v = Double(cleaned) else { return .failure(CheckError("capture \(name): '\(text)' is not a number")) }
        return .success(v)
    }
}

/// `keep: NAME = EXPRESSION`: a figure kept for the rest of the session under a name.
public struct Keep: CustomStringConvertible {
    public let name: String
    public let expression: FigureExpression
    public var description: String { "\(name) = \(expression)" }

    public static func parse(_ text: String) throws -> Keep {
        let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[1].isEmpty else { throw CheckError("expected 'NAME = EXPRESSION', got '\(text.trimmingCharacters(in: .whitespaces))'") }
        try checkName(parts[0])
        return Keep(name: parts[0], expression: try FigureExpression.parse(parts[1]))
    }

    static func checkName(_ name: String) throws {
        guard let first = name.first, first.isLetter || first == "_",
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw CheckError("'\(name)' is not a figure name (letters, digits and _)")
        }
    }
}

/// `verdict: TEXT` or `verdict if CONDITION: TEXT`, with `{EXPRESSION[:DECIMALS]}` holes.
public struct Verdict {
    public enum Piece { case text(String), hole(FigureExpression, decimals: Int?) }
    public let condition: (FigureExpression, Check.Comparison, FigureExpression)?
    public let pieces: [Piece]

    /// Parses what follows `verdict` (` if A > B: text` or `: text`).
    public static func parse(_ rest: String) throws -> Verdict {
        var condition: (FigureExpression, Check.Comparison, FigureExpression)?
        var text = rest
        if rest.hasPrefix(" if ") {
            guard let colon = rest.firstIndex(of: ":") else { throw CheckError("'verdict if CONDITION: TEXT' needs the colon after the condition") }
            let cond = rest[rest.index(rest.startIndex, offsetBy: 4)..<colon].trimmingCharacters(in: .whitespaces)
            guard let c = try Check.comparison(cond) else { throw CheckError("'\(cond)' is not a comparison (A OP B)") }
            condition = c
            text = String(rest[rest.index(after: colon)...])
        } else {
            guard rest.hasPrefix(":") else { throw CheckError("expected 'verdict: TEXT' or 'verdict if CONDITION: TEXT'") }
            text = String(rest.dropFirst())
        }
        text = text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw CheckError("a verdict without text") }
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { pieces.append(.text(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else { throw CheckError("a '{' in the verdict is never closed") }
            let inside = rest[rest.index(after: open)..<close]
            var decimals: Int?
            var expression = String(inside)
            if let colon = inside.lastIndex(of: ":") {
                guard let d = Int(inside[inside.index(after: colon)...].trimmingCharacters(in: .whitespaces)), (0...6).contains(d) else {
                    throw CheckError("'{\(inside)}': the part after ':' is the number of decimals, 0 to 6")
                }
                decimals = d
                expression = String(inside[..<colon])
            }
            pieces.append(.hole(try FigureExpression.parse(expression), decimals: decimals))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        return Verdict(condition: condition, pieces: pieces)
    }

    /// The verdict's text, nil when its condition does not hold. A figure not measured
    /// shows as "?" (and a condition on one doesn't hold), so a verdict never invents a number.
    public func render(_ lookup: (String) -> Double?) -> String? {
        if let (a, op, b) = condition {
            guard let x = a.value(lookup), let y = b.value(lookup), op.holds(x, y) else { return nil }
        }
        return pieces.map { piece -> String in
            switch piece {
            case .text(let t): return t
            case .hole(let e, let decimals):
                guard let v = e.value(lookup), v.isFinite else { return "?" }
                if let decimals { return Verdict.grouped(String(format: "%.\(decimals)f", v)) }
                return Verdict.grouped(Verdict.plain(v))
            }
        }.joined()
    }

    /// "75373" → "75,373": thousands grouped from five digits on (a year "2026" or a
    /// count "1024" reads better ungrouped), the fraction left as it is.
    static func grouped(_ number: String) -> String {
        let sign = number.hasPrefix("-") ? "-" : ""
        let body = number.dropFirst(sign.count)
        let whole = body.prefix { $0.isNumber }
        guard whole.count >= 5, whole.count == body.prefix(while: { $0 != "." }).count else { return number }
        var digits = ""
        for (i, d) in whole.enumerated() {
            if i > 0 && (whole.count - i) % 3 == 0 { digits.append(",") }
            digits.append(d)
        }
        return sign + digits + body.dropFirst(whole.count)
    }

    /// Three significant figures, no exponent for everyday sizes.
    static func plain(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        let a = abs(v)
        return a >= 100 ? String(format: "%.0f", v) : a >= 10 ? String(format: "%.1f", v) : a >= 1 ? String(format: "%.2f", v) : String(format: "%.3g", v)
    }
}
