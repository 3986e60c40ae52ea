import Foundation

/// One `expect:` line of a lab cell: what must hold after the cell ran.
public enum Check: CustomStringConvertible {
    /// The cell's output matches (or, negated, does not match) a regular expression.
    case matches(NSRegularExpression, negated: Bool, source: String)
    /// Measured figures compared: `decode_tps > 0`, `final_loss < first_loss`, or
    /// arithmetic on both sides, `smol_tg / gemma_tg > 1.5` (see `FigureExpression`).
    /// A name is this cell's figure, else one an earlier cell kept (`keep:`).
    case figure(FigureExpression, op: Comparison, FigureExpression)

    public enum Comparison: String, CaseIterable {
        case ge = ">=", le = "<=", eq = "==", ne = "!=", gt = ">", lt = "<"
        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .gt: return a > b
            case .ge: return a >= b
            case .lt: return a < b
            case .le: return a <= b
            case .eq: return a == b
            case .ne: return a != b
            }
        }
    }

    public var description: String {
        switch self {
        case .matches(_, let negated, let source): return (negated ? "!" : "") + source
        case .figure(let left, let op, let right): return "\(left) \(op.rawValue) \(right)"
        }
    }

    /// Parses what follows `expect:`; the error message says what is wrong.
    public static func parse(_ text: String) throws -> Check {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("/") || t.hasPrefix("!/") {
            let negated = t.hasPrefix("!")
            let body = negated ? String(t.dropFirst()) : t
            // /pattern/ or /pattern/i
            guard body.count >= 2, let close = body.lastIndex(of: "/"), close != body.startIndex else {
                throw CheckError("expected /REGEX/ with a closing slash, got '\(t)'")
            }
            let pattern = String(body[body.index(after: body.startIndex)..<close])
            let flags = body[body.index(after: close)...]
            guard flags.allSatisfy({ $0 == "i" }) else { throw CheckError("unknown regex flag in '\(t)' (only i is known)") }
            guard !pattern.isEmpty else { throw CheckError("empty regular expression") }
            do {
                let regex = try NSRegularExpression(pattern: pattern, options: flags.isEmpty ? [] : [.caseInsensitive])
                return .matches(regex, negated: negated, source: String(body))
            } catch {
                throw CheckError("invalid regular expression /\(pattern)/")
            }
        }
        if let (left, op, right) = try Check.comparison(t) { return .figure(left, op: op, right) }
        throw CheckError("expected /REGEX/, !/REGEX/ or FIGURE OP NUMBER|FIGURE (OP one of > >= < <= == !=), got '\(t)'")
    }

    /// `A OP B` split at its comparison (two-character operators first, so ">=" isn't
    /// read as ">"), each side parsed; nil when there is no comparison operator.
    static func comparison(_ t: String) throws -> (FigureExpression, Comparison, FigureExpression)? {
        for op in Comparison.allCases {
            guard let range = t.range(of: op.rawValue) else { continue }
            let a = t[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let b = t[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard !a.isEmpty, !b.isEmpty else { throw CheckError("'\(t)' needs a figure or number on both sides of \(op.rawValue)") }
            return (try FigureExpression.parse(a), op, try FigureExpression.parse(b))
        }
        return nil
    }

    /// Nil when the check holds; otherwise why it failed. The output is matched
    /// without its colour codes, so a check holds on a terminal as it does in a pipe.
    public func failure(output: String, figures: Figures) -> String? {
        switch self {
        case .matches(let regex, let negated, let source):
            let output = TextUtil.stripANSI(output)
            let found = regex.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)) != nil
            if found == negated {
                return negated ? "the output matches \(source), which it should not" : "the output doesn't match \(source)"
            }
            return nil
        case .figure(let left, let op, let right):
            if let missing = (left.figureNames + right.figureNames).first(where: { figures[$0] == nil }) {
                let known = figures.values.keys.sorted().joined(separator: ", ")
                return "no figure '\(missing)' was measured in this cell" + (known.isEmpty ? "" : " (measured: \(known))")
            }
            guard let a = left.value({ figures[$0] }), let b = right.value({ figures[$0] }) else {
                return "'\(self)' divides by zero"
            }
            if op.holds(a, b) { return nil }
            let rightText = right == .number(b) ? Check.format(b) : "\(right) (\(Check.format(b)))"
            return "\(left) is \(Check.format(a)), not \(op.rawValue) \(rightText)"
        }
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.4g", v)
    }
}

public struct CheckError: Error, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}
