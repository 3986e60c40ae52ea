import Foundation

/// Arithmetic over measured figures, as a lesson cell writes it:
/// `tg_tps`, `smol_tg / gemma_tg`, `(ppl_q2 - ppl_q8) / ppl_q8 * 100`.
/// Numbers, figure names (letters, digits, `_`), `+ - * / ^`, unary minus and parentheses.
public indirect enum FigureExpression: CustomStringConvertible, Equatable {
    case number(Double)
    case figure(String)
    case negate(FigureExpression)
    case binary(Character, FigureExpression, FigureExpression)

    public var description: String {
        switch self {
        case .number(let v): return Check.format(v)
        case .figure(let n): return n
        case .negate(let e): return "-" + e.description
        case .binary(let op, let a, let b): return "\(a.wrapped) \(op) \(b.wrapped)"
        }
    }
    private var wrapped: String { if case .binary = self { return "(\(description))" } else { return description } }

    /// Every figure name the expression reads.
    public var figureNames: [String] {
        switch self {
        case .number: return []
        case .figure(let n): return [n]
        case .negate(let e): return e.figureNames
        case .binary(_, let a, let b): return a.figureNames + b.figureNames
        }
    }

    /// The value, or nil when a figure it reads was not measured (or a division by zero).
    public func value(_ lookup: (String) -> Double?) -> Double? {
        switch self {
        case .number(let v): return v
        case .figure(let n): return lookup(n)
        case .negate(let e): return e.value(lookup).map { -$0 }
        case .binary(let op, let a, let b):
            guard let x = a.value(lookup), let y = b.value(lookup) else { return nil }
            switch op {
            case "+": return x + y
            case "-": return x - y
            case "*": return x * y
            case "^": return pow(x, y)
            default: return y == 0 ? nil : x / y
            }
        }
    }

    /// Parses the whole of `text`; the error says what is wrong.
    public static func parse(_ text: String) throws -> FigureExpression {
        var p = Parser(Array(text))
        let e = try p.sum()
        p.skipSpaces()
        guard p.i == p.chars.count else { throw CheckError("unexpected '\(String(p.chars[p.i...]))' in '\(text)'") }
        return e
    }

    private struct Parser {
        let chars: [Character]
        var i = 0
        init(_ c: [Character]) { chars = c }
        mutating func skipSpaces() { while i < chars.count, chars[i] == " " { i += 1 } }
        mutating func sum() throws -> FigureExpression {
            var e = try product()
            while true {
                skipSpaces()
                guard i < chars.count, chars[i] == "+" || chars[i] == "-" else { return e }
                let op = chars[i]; i += 1
                e = .binary(op, e, try product())
            }
        }
        mutating func product() throws -> FigureExpression {
            var e = try power()
            while true {
                skipSpaces()
                guard i < chars.count, chars[i] == "*" || chars[i] == "/" else { return e }
                let op = chars[i]; i += 1
                e = .binary(op, e, try power())
            }
        }
        mutating func power() throws -> FigureExpression {
            let base = try unary()
            skipSpaces()
            guard i < chars.count, chars[i] == "^" else { return base }
            i += 1
            return .binary("^", base, try power())   // right-associative: 2^3^2 = 2^9
        }
        mutating func unary() throws -> FigureExpression {
            skipSpaces()
            guard i < chars.count else { throw CheckError("an expression ends where a number or figure name was expected") }
            let c = chars[i]
            if c == "-" { i += 1; return .negate(try unary()) }
            if c == "(" {
                i += 1
                let e = try sum()
                skipSpaces()
                guard i < chars.count, chars[i] == ")" else { throw CheckError("a '(' is never closed") }
                i += 1
                return e
            }
            if c.isNumber || c == "." {
                let start = i
                while i < chars.count, chars[i].isNumber || chars[i] == "." || chars[i] == "e" { i += 1 }
                guard let v = Double(String(chars[start..<i])) else { throw CheckError("'\(String(chars[start..<i]))' is not a number") }
                return .number(v)
            }
            if c.isLetter || c == "_" {
                let start = i
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
                return .figure(String(chars[start..<i]))
            }
            throw CheckError("unexpected '\(c)' where a number or figure name was expected")
        }
    }
}
