/// Turns raw input lines into command lines.
///
/// A `"""` that opens a block makes the following lines part of the same
/// command until the line that closes it:
///
///     lab> gen """
///     ...> Dear diary,
///     ...> today I
///     ...> """
///
/// Lines are joined with newlines, and the word splitter reads the block as
/// one argument.
public struct InputAssembler {
    private var pending: [String] = []
    public init() {}

    /// True while a `"""` block is open.
    public var isContinuing: Bool { !pending.isEmpty }

    /// Feeds one line; returns a complete command line, or nil while a block is open.
    public mutating func feed(_ line: String) -> String? {
        pending.append(line)
        let joined = pending.joined(separator: "\n")
        if InputAssembler.tripleQuoteCount(joined) % 2 == 1 { return nil }
        pending = []
        return joined
    }

    /// What is left when input ends inside a block.
    public mutating func unfinished() -> String? {
        defer { pending = [] }
        return pending.isEmpty ? nil : pending.joined(separator: "\n")
    }

    static func tripleQuoteCount(_ s: String) -> Int {
        var count = 0
        var run = 0
        for c in s {
            if c == "\"" { run += 1; if run == 3 { count += 1; run = 0 } } else { run = 0 }
        }
        return count
    }

    /// Splits `lmlab -c "load tiny; gen hi"` into commands at `;` outside quotes.
    public static func splitCommands(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quote: Character?
        var triple = false
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\"" && i + 2 < chars.count && chars[i + 1] == "\"" && chars[i + 2] == "\"" && (quote == nil) {
                triple.toggle(); current += "\"\"\""; i += 3; continue
            }
            if !triple {
                if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c }
                if c == ";" && quote == nil {
                    out.append(current); current = ""; i += 1; continue
                }
            }
            current.append(c); i += 1
        }
        out.append(current)
        return out.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

import Foundation
