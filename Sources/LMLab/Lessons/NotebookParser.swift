import Foundation

/// Reads the Markdown notebook format (see `Notebook`), checking as it goes:
/// every fence closed, every command known, every `expect:` well formed.
/// Errors name the file and line.
public struct NotebookParser {
    /// Command names (and aliases) a cell may use.
    let knownCommands: Set<String>

    public init(knownCommands: Set<String>) { self.knownCommands = knownCommands }

    public func parse(_ text: String, source: String) throws -> Notebook {
        var notebook = Notebook()
        notebook.source = source
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        var i = 0
        func fail(_ line: Int, _ message: String) -> NotebookError { NotebookError(source: source, line: line, message: message) }

        // Front matter: `---`, `key: value` lines, `---`.
        if lines.first?.trimmingCharacters(in: .whitespaces) == "---" {
            i = 1
            while i < lines.count, lines[i].trimmingCharacters(in: .whitespaces) != "---" {
                let l = lines[i]
                if !l.trimmingCharacters(in: .whitespaces).isEmpty {
                    guard let colon = l.firstIndex(of: ":") else { throw fail(i + 1, "front matter line is not 'key: value'") }
                    notebook.meta[l[..<colon].trimmingCharacters(in: .whitespaces)] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                i += 1
            }
            guard i < lines.count else { throw fail(1, "front matter opened with '---' is never closed") }
            i += 1
        }

        var prose: [String] = []
        while i < lines.count {
            let line = lines[i]
            guard let fence = Fence(opening: line) else { prose.append(line); i += 1; continue }
            // Find the closing fence: same character, at least as long, nothing after it.
            var j = i + 1
            while j < lines.count, !fence.isClosed(by: lines[j]) { j += 1 }
            guard j < lines.count else { throw fail(i + 1, "the \(fence.marker) fence opened here is never closed") }
            let body = Array(lines[(i + 1)..<j])
            switch fence.info {
            case "lab":
                let cell = try parseCell(body, firstLine: i + 2, fenceLine: i + 1, fail: fail)
                notebook.steps.append(Notebook.Step(prose: prose.joined(separator: "\n"), cell: cell))
                prose = []
            case "output":
                guard var last = notebook.steps.last, last.cell != nil, prose.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                    throw fail(i + 1, "an output block must follow a lab cell")
                }
                last.cell!.output = body.joined(separator: "\n")
                notebook.steps[notebook.steps.count - 1] = last
                prose = []
            default:
                prose.append(contentsOf: lines[i...j])   // other code blocks are prose, shown as code
            }
            i = j + 1
        }
        let rest = prose.joined(separator: "\n")
        if !rest.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || notebook.steps.isEmpty {
            notebook.steps.append(Notebook.Step(prose: rest, cell: nil))
        }
        return notebook
    }

    /// What follows `prefix` on a cell line, trimmed; nil when the line doesn't start with it.
    private func value(_ line: String, _ prefix: String) -> String? {
        line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) : nil
    }

    private func parseCell(_ body: [String], firstLine: Int, fenceLine: Int,
                           fail: (Int, String) -> NotebookError) throws -> Notebook.Cell {
        var cell = Notebook.Cell(commands: [], checks: [], output: nil, line: fenceLine)
        var assembler = InputAssembler()
        var startLine = firstLine
        for (k, raw) in body.enumerated() {
            let number = firstLine + k
            if !assembler.isContinuing {
                let t = raw.trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.hasPrefix("#") { continue }
                if t.hasPrefix("expect:") {
                    do { cell.checks.append(try Check.parse(String(t.dropFirst("expect:".count)))) } catch let e as CheckError {
                        throw fail(number, "bad expect: \(e.description)")
                    }
                    continue
                }
                do {
                    if let v = value(t, "look:") { guard !v.isEmpty else { throw CheckError("look: without text") }; cell.looks.append(v); continue }
                    if let v = value(t, "ask:") { guard !v.isEmpty else { throw CheckError("ask: without a question") }; cell.asks.append(v); continue }
                    if let v = value(t, "capture:") { cell.captures.append(try Capture.parse(v)); continue }
                    if let v = value(t, "keep:") { cell.keeps.append(try Keep.parse(v)); continue }
                    if t.hasPrefix("verdict:") || t.hasPrefix("verdict if ") {
                        cell.verdicts.append(try Verdict.parse(String(t.dropFirst("verdict".count)))); continue
                    }
                } catch let e as CheckError {
                    throw fail(number, "bad \(t.prefix { $0 != ":" && $0 != " " }): \(e.description)")
                }
                startLine = number
            }
            guard let command = assembler.feed(raw) else { continue }
            let word = command.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
            let bare = word.hasPrefix("/") ? String(word.dropFirst()) : word
            guard knownCommands.contains(bare) else {
                throw fail(startLine, "unknown command '\(TextUtil.sanitize(TextUtil.truncate(word, to: 40)))' in a lab cell")
            }
            cell.commands.append(Notebook.Line(text: command, number: startLine))
        }
        if assembler.isContinuing { throw fail(startLine, "a \"\"\" block opened here is never closed inside the cell") }
        guard !cell.commands.isEmpty || !cell.asks.isEmpty else { throw fail(fenceLine, "a lab cell without commands") }
        return cell
    }
}

/// A Markdown code fence: three or more backticks or tildes, then an info word.
struct Fence {
    let character: Character
    let length: Int
    let info: String

    var marker: String { String(repeating: character, count: length) }

    init?(opening line: String) {
        let t = line.drop { $0 == " " }
        guard line.count - t.count <= 3, let c = t.first, c == "`" || c == "~" else { return nil }
        let run = t.prefix { $0 == c }.count
        guard run >= 3 else { return nil }
        let info = t.dropFirst(run).trimmingCharacters(in: .whitespaces)
        if c == "`" && info.contains("`") { return nil }
        character = c; length = run
        self.info = info.split(separator: " ").first.map(String.init) ?? ""
    }

    func isClosed(by line: String) -> Bool {
        let t = line.trimmingCharacters(in: .whitespaces)
        return t.count >= length && t.allSatisfy { $0 == character }
    }

    /// A backtick fence long enough to hold `text` (longer than any run inside it).
    static func backticks(around text: String) -> String {
        var longest = 0, run = 0
        for c in text { if c == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
        return String(repeating: "`", count: max(3, longest + 1))
    }
}
