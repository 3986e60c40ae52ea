import Foundation
import LMEngine

/// A command line after the command name, split into words and checked
/// against the command's declared flags.
///
///     gen "Once upon a time" --temp 0.8 --max 40 --json
///     positionals: ["Once upon a time"]; options: temp=0.8, max=40; flags: json
///
/// Words are split on spaces; "double", 'single' and """triple""" quotes
/// group words (triple quotes may span lines and hold quotes). Inside "double quotes"
/// `\n` `\r` `\t` `\uXXXX` `\u{X…}` are escapes (see `escape`); 'single' and
/// """triple""" quotes are verbatim.
public struct Arguments {
    public private(set) var positionals: [String] = []
    public private(set) var options: [String: String] = [:]
    public private(set) var flags: Set<String> = []

    /// A flag a command accepts: `--name` alone, or `--name VALUE` when `value` names the value.
    public struct Flag: Sendable {
        public let name: String
        public let value: String?
        public let help: String
        public init(_ name: String, value: String? = nil, _ help: String) {
            self.name = name; self.value = value; self.help = help
        }

        /// The `--json` flag every command that has figures offers: "print one JSON object " + what.
        public static func json(_ what: String) -> Flag { Flag("json", "print one JSON object " + what) }
    }

    public init(positionals: [String] = [], options: [String: String] = [:], flags: Set<String> = []) {
        self.positionals = positionals; self.options = options; self.flags = flags
    }

    /// Parses the words after the command name against the accepted flags.
    public init(words: [String], accepting accepted: [Flag]) throws {
        var i = 0
        while i < words.count {
            let w = words[i]
            if w.hasPrefix("--") && w.count > 2 && !w.hasPrefix("---") {
                var name = String(w.dropFirst(2))
                var inlineValue: String?
                if let eq = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                guard let spec = accepted.first(where: { $0.name == name }) else {
                    let names = accepted.map { "--" + $0.name }
                    let hint = Suggest.closest(to: "--" + name, in: names).map { " — did you mean '\($0)'?" } ?? ""
                    throw CommandError.usage("unknown option '--\(name)'\(hint)")
                }
                if let valueName = spec.value {
                    if let v = inlineValue { options[name] = v } else {
                        guard i + 1 < words.count else {
                            throw CommandError.usage("option '--\(name)' needs a value (\(valueName))")
                        }
                        options[name] = words[i + 1]; i += 1
                    }
                } else {
                    guard inlineValue == nil else { throw CommandError.usage("option '--\(name)' takes no value") }
                    flags.insert(name)
                }
            } else {
                positionals.append(w)
            }
            i += 1
        }
    }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// Whether `--json` was given: print one JSON object (`JSONText.encode`) instead of the view.
    public var json: Bool { flags.contains("json") }

    /// All positionals joined by spaces: how text arguments like prompts are read,
    /// so `gen Once upon a time` and `gen "Once upon a time"` are the same.
    public var text: String { positionals.joined(separator: " ") }

    public func positional(_ i: Int) -> String? { i < positionals.count ? positionals[i] : nil }

    /// A numeric option checked against its range; nil when absent.
    public func number<T: LosslessStringConvertible & Comparable>(_ name: String, in range: ClosedRange<T>) throws -> T? {
        guard let raw = options[name] else { return nil }
        guard let v = T(raw) else { throw CommandError.usage("option '--\(name)' expects a number, got '\(raw)'") }
        guard range.contains(v) else {
            throw CommandError.usage("option '--\(name)' must be between \(range.lowerBound) and \(range.upperBound), got \(raw)")
        }
        return v
    }

    /// Splits a line into words, honouring quotes. An unclosed quote is an error.
    public static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var chars = Array(line)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\"" && i + 2 < chars.count && chars[i + 1] == "\"" && chars[i + 2] == "\"" {
                // """ … """: everything up to the closing triple quote, verbatim
                var j = i + 3
                var found = false
                while j + 2 < chars.count + 0 {
                    if chars[j] == "\"" && chars[j + 1] == "\"" && chars[j + 2] == "\"" { found = true; break }
                    j += 1
                }
                guard found else { throw CommandError.usage("unclosed \"\"\" block") }
                var body = String(chars[(i + 3)..<j])
                if body.hasPrefix("\n") { body.removeFirst() }
                if body.hasSuffix("\n") { body.removeLast() }
                current += body; inWord = true
                i = j + 3
                continue
            }
            if c == "\"" || c == "'" {
                var j = i + 1
                var piece = ""
                while j < chars.count && chars[j] != c {
                    if c == "\"" && chars[j] == "\\" && j + 1 < chars.count {
                        let (text, used) = try escape(chars, at: j)
                        piece += text
                        j += used; continue
                    }
                    piece.append(chars[j]); j += 1
                }
                guard j < chars.count else { throw CommandError.usage("unclosed quote \(c)") }
                current += piece; inWord = true
                i = j + 1
                continue
            }
            if c == " " || c == "\t" || c == "\n" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(c); inWord = true
            }
            i += 1
        }
        if inWord { words.append(current) }
        chars.removeAll()
        return words
    }

    /// The escape starting at `chars[at]` (a backslash) inside "double quotes": its text and
    /// how many characters it spans. `\n` `\r` `\t`, `\uXXXX` (four hex digits; a UTF-16
    /// surrogate pair `\uD83D\uDE00` is one scalar, as in JSON) and `\u{1F600}` (1–8 hex digits);
    /// any other character after the backslash stands for itself (`\"`, `\\`).
    static func escape(_ chars: [Character], at start: Int) throws -> (String, Int) {
        let n = chars[start + 1]
        switch n {
        case "n": return ("\n", 2)
        case "r": return ("\r", 2)
        case "t": return ("\t", 2)
        case "u": break
        default: return (String(n), 2)
        }
        // \u{…}: any scalar, written with 1–8 hex digits.
        if start + 2 < chars.count, chars[start + 2] == "{" {
            var k = start + 3
            var hex = ""
            while k < chars.count, chars[k] != "}", hex.count <= 8 { hex.append(chars[k]); k += 1 }
            guard k < chars.count, chars[k] == "}", (1...8).contains(hex.count),
                  let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                throw CommandError.usage("bad escape \\u{\(hex)} in quotes: expected 1-8 hex digits of a Unicode scalar, like \\u{1F600}")
            }
            return (String(Character(scalar)), k + 1 - start)
        }
        // \uXXXX, and a following \uXXXX when the first is a high surrogate.
        func hex4(_ from: Int) -> UInt32? {
            guard from + 4 <= chars.count else { return nil }
            let digits = String(chars[from..<(from + 4)])
            guard digits.allSatisfy(\.isHexDigit) else { return nil }
            return UInt32(digits, radix: 16)
        }
        guard let unit = hex4(start + 2) else {
            let seen = String(chars[(start + 2)..<min(start + 6, chars.count)]
                .prefix { $0 != "\"" && !$0.isWhitespace })
            throw CommandError.usage("bad escape \\u\(seen) in quotes: \\u needs four hex digits, like \\u00e9")
        }
        if (0xD800...0xDBFF).contains(unit) {
            guard start + 7 < chars.count, chars[start + 6] == "\\", chars[start + 7] == "u",
                  let low = hex4(start + 8), (0xDC00...0xDFFF).contains(low) else {
                throw CommandError.usage(String(format: "bad escape \\u%04X in quotes: a high surrogate must be followed by a low one (\\uDC00-\\uDFFF)", unit))
            }
            let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
            return (String(Character(scalar)), 12)
        }
        guard let scalar = Unicode.Scalar(unit) else {
            throw CommandError.usage(String(format: "bad escape \\u%04X in quotes: a low surrogate without a high one", unit))
        }
        return (String(Character(scalar)), 6)
    }
}

/// Errors a command reports: one line each, printed as `error: …`.
public enum CommandError: Error, CustomStringConvertible, Equatable {
    /// Wrong words: unknown option, missing argument, value out of range.
    case usage(String)
    /// The command can't run now (no model loaded, …).
    case state(String)
    /// The command ran and failed (file unreadable, …).
    case failed(String)
    /// Ctrl-C stopped it.
    case interrupted

    public var description: String {
        switch self {
        case .usage(let m), .state(let m), .failed(let m): return m
        case .interrupted: return "interrupted"
        }
    }
}

extension CommandError {
    /// An error as the prompt reports it: each of the engine's ways of saying "stopped"
    /// (CancellationError, Perplexity.Failure.interrupted, TrainingError.interrupted) is
    /// `interrupted`; a CommandError stays itself; anything else `failed` with its one line.
    public init(_ error: Error) {
        switch error {
        case let e as CommandError: self = e
        case is CancellationError, Perplexity.Failure.interrupted, TrainingError.interrupted: self = .interrupted
        default: self = .failed(String(describing: error))
        }
    }
}

/// "did you mean" by edit distance.
public enum Suggest {
    /// Edits (insert, delete, replace, swap two neighbours) from a to b:
    /// "hlep" is one swap from "help".
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        // d[i][j]: distance between a[..<i] and b[..<j]
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }

    /// The closest candidate within a distance that scales with the word's length
    /// (≤ 1 for short words, ≤ 2 from five letters), or one the word is a prefix of.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        guard word.count <= 64 else { return nil }   // no command is that long; don't spend time on it
        let limit = word.count >= 5 ? 2 : 1
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        if let best = scored.filter({ $0.1 <= limit }).min(by: { $0.1 < $1.1 }) { return best.0 }
        if word.count >= 2, let p = candidates.filter({ $0.hasPrefix(word) }).min(by: { $0.count < $1.count }) { return p }
        return nil
    }
}
