import Foundation

/// Markdown prose for a terminal: headings, **bold**, *emphasis*, `code`,
/// lists, quotes and code blocks, with paragraphs re-wrapped to the width.
/// Without colour the markers are dropped and headings are underlined with ─.
public struct MarkdownRenderer {
    let console: Console
    /// Lines are this long at most: on a terminal its width, up to 100 columns (longer
    /// lines are hard to read); elsewhere the fixed 88 of before, so what scripts and
    /// checks read from a pipe doesn't move.
    var width: Int { min(console.width, console.isTerminal ? MarkdownRenderer.readableMeasure : 88) }
    static let readableMeasure = 100

    public init(console: Console) { self.console = console }

    public func render(_ prose: String) -> String {
        var out: [String] = []
        var paragraph: [String] = []
        var item: (bullet: String, text: String)?   // a list item, which indented lines continue
        var fence: Fence?
        var tableRows: [[String]] = []               // a pipe table being collected
        func flushTable() {
            guard let header = tableRows.first else { return }
            var table = Table(header.map { inline($0) })
            for row in tableRows.dropFirst() { table.add(row.map { inline($0) }) }
            out.append(table.render(console: console))
            tableRows = []
        }
        func flush() {
            flushTable()
            if let i = item {
                out.append(contentsOf: wrap(inline(i.text), indent: "  " + i.bullet + " ", hanging: "  " + String(repeating: " ", count: i.bullet.count + 1)))
                item = nil
            }
            guard !paragraph.isEmpty else { return }
            out.append(contentsOf: wrap(inline(paragraph.joined(separator: " ")), indent: ""))
            paragraph = []
        }
        for line in prose.components(separatedBy: "\n") {
            if let f = fence {
                if f.isClosed(by: line) { fence = nil } else { out.append("    " + console.styled(line, .cyan)) }
                continue
            }
            if let f = Fence(opening: line) { flush(); fence = f; continue }
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("|") {
                if tableRows.isEmpty { flush() }
                let cells = t.dropFirst().split(separator: "|", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                let row = cells.last == "" ? Array(cells.dropLast()) : cells
                // The |---|---| line under the header only marks it as a header.
                if !row.allSatisfy({ $0.allSatisfy { "-:".contains($0) } && !$0.isEmpty }) { tableRows.append(row) }
                continue
            }
            flushTable()
            if t.isEmpty { flush(); if out.last != "" { out.append("") }; continue }
            if t.hasPrefix("#") {
                flush()
                let level = t.prefix { $0 == "#" }.count
                let text = inline(t.dropFirst(level).trimmingCharacters(in: .whitespaces))
                out.append(console.styled(text, .bold))
                if !console.useColor || level <= 2 {
                    out.append(String(repeating: level == 1 ? "═" : "─", count: min(width, TextUtil.displayWidth(text))))
                }
                continue
            }
            if let next = listItem(t) {
                flush()
                item = next
                continue
            }
            if item != nil, line.first == " " {   // an indented line continues the item above
                item!.text += " " + t
                continue
            }
            if t.hasPrefix(">") {
                flush()
                out.append(contentsOf: wrap(inline(t.dropFirst().trimmingCharacters(in: .whitespaces)), indent: "  │ ").map { console.styled($0, .italic) })
                continue
            }
            paragraph.append(t)
        }
        flush()
        while out.last == "" { out.removeLast() }
        while out.first == "" { out.removeFirst() }
        return out.joined(separator: "\n")
    }

    /// `- x`, `* x` → • x; `1. x` stays numbered.
    private func listItem(_ t: String) -> (bullet: String, text: String)? {
        if (t.hasPrefix("- ") || t.hasPrefix("* ")) { return ("•", String(t.dropFirst(2))) }
        let digits = t.prefix { $0.isNumber }
        if !digits.isEmpty, t.dropFirst(digits.count).hasPrefix(". ") {
            return (digits + ".", String(t.dropFirst(digits.count + 2)))
        }
        return nil
    }

    /// Inline marks: **bold**, *em* / _em_, `code`.
    func inline(_ s: String) -> String {
        var out = ""
        var chars = Array(s)[...]
        while let c = chars.first {
            if c == "`", let end = chars.dropFirst().firstIndex(of: "`") {
                let code = String(chars[chars.index(after: chars.startIndex)..<end])
                out += console.useColor ? console.styled(code, .cyan) : "'" + code + "'"
                chars = chars[(end + 1)...]
            } else if c == "*", chars.dropFirst().first == "*", let end = find("**", in: chars.dropFirst(2)) {
                out += console.styled(String(chars[(chars.startIndex + 2)..<end]), .bold)
                chars = chars[(end + 2)...]
            } else if (c == "*" || (c == "_" && !Self.isWordCharacter(out.last))),
                      chars.dropFirst().first.map({ $0 != " " && $0 != c }) == true,
                      let end = chars.dropFirst().firstIndex(of: c) {
                out += console.styled(String(chars[(chars.startIndex + 1)..<end]), .italic)
                chars = chars[(end + 1)...]
            } else {
                out.append(c); chars = chars.dropFirst()
            }
        }
        return out
    }

    /// `_` inside a word (Q4_K_M, snake_case) is a letter, not emphasis, as in CommonMark.
    static func isWordCharacter(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber } ?? false }

    private func find(_ marker: String, in chars: ArraySlice<Character>) -> Int? {
        let m = Array(marker)
        var i = chars.startIndex
        while i + m.count <= chars.endIndex {
            if Array(chars[i..<(i + m.count)]) == m { return i }
            i += 1
        }
        return nil
    }

    /// Word-wraps to the width, measuring display columns (escape codes count nothing).
    func wrap(_ text: String, indent: String, hanging: String? = nil) -> [String] {
        var lines: [String] = []
        var current = indent
        var currentWidth = TextUtil.displayWidth(indent)
        let rest = hanging ?? indent
        var empty = true
        for word in text.split(separator: " ") {
            let w = TextUtil.displayWidth(String(word))
            if !empty && currentWidth + 1 + w > width {
                lines.append(current)
                current = rest; currentWidth = TextUtil.displayWidth(rest); empty = true
            }
            if !empty { current += " "; currentWidth += 1 }
            current += word; currentWidth += w; empty = false
        }
        lines.append(current)
        return lines
    }
}
