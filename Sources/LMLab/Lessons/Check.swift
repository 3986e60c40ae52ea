import Foundation

/// One `expect:` line of a lab cell: what must hold after the cell ran.
public enum Check: CustomStringConvertible {
    /// The cell's output matches (or, negated, does not match) a regular expression.
    case matches(NSRegularExpression, negated: Bool, source: String)
    /// A measured figure compared with a number, `decode_tps > 0`, or with another
    /// figure of the same cell, `final_loss < first_loss`.
    case figure(name: String, op: Comparison, value: Operand)

    public enum Operand: CustomStringConvertible {
        case number(Double)
        case figure(String)
        public var description: String {
            switch self {
            case .number(let v): return Check.format(v)
            case .figure(let name): return name
            }
        }
    }

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
        case .figure(let name, let op, let value): return "\(name) \(op.rawValue) \(value)"
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
        for op in Comparison.allCases {   // two-character operators first, so ">=" isn't read as ">"
            guard let range = t.range(of: op.rawValue) else { continue }
            let name = t[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let number = t[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw CheckError("'\(name)' is not a figure name (letters, digits and _)")
            }
            if let value = Double(number) { return .figure(name: name, op: op, value: .number(value)) }
            guard !number.isEmpty, number.first!.isLetter || number.first == "_",
                  number.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw CheckError("'\(number)' is not a number or a figure name in '\(t)'")
            }
            return .figure(name: name, op: op, value: .figure(number))
        }
        throw CheckError("expected /REGEX/, !/REGEX/ or FIGURE OP NUMBER|FIGURE (OP one of > >= < <= == !=), got '\(t)'")
    }

    /// Nil when the check holds; otherwise why it failed.
    public func failure(output: String, figures: Figures) -> String? {
        switch self {
        case .matches(let regex, let negated, let source):
            let found = regex.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)) != nil
            if found == negated {
                return negated ? "the output matches \(source), which it should not" : "the output doesn't match \(source)"
            }
            return nil
        case .figure(let name, let op, let value):
            func measured(_ n: String) -> (Double?, String?) {
                if let v = figures[n] { return (v, nil) }
                let known = figures.values.keys.sorted().joined(separator: ", ")
                return (nil, "no figure '\(n)' was measured in this cell" + (known.isEmpty ? "" : " (measured: \(known))"))
            }
            let (left, whyLeft) = measured(name)
            guard let left else { return whyLeft }
            let right: Double
            switch value {
            case .number(let v): right = v
            case .figure(let other):
                let (r, why) = measured(other)
                guard let r else { return why }
                right = r
            }
            if op.holds(left, right) { return nil }
            if case .figure(let other) = value {
                return "\(name) is \(Check.format(left)), not \(op.rawValue) \(other) (\(Check.format(right)))"
            }
            return "\(name) is \(Check.format(left)), not \(op.rawValue) \(Check.format(right))"
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
