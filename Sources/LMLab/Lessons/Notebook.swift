import Foundation

/// A lesson or a saved session: Markdown prose with fenced ```lab cells of commands.
///
///     ---
///     title: What a language model does
///     minutes: 10
///     needs: tiny-stories
///     ---
///     Prose, rendered for the terminal.
///
///     ```lab
///     next Once upon a time 5
///     expect: /once|time/
///     expect: entropy_bits > 0
///     ```
///
/// A cell holds one command per line (`"""` blocks may span lines) and checks:
/// `expect: /REGEX/` (the cell's output must match; `!/REGEX/` must not) or
/// `expect: FIGURE OP NUMBER` on a figure the cell's commands measured.
/// Lines that put the measurement into words (`Verdict.swift`): `look: TEXT` is shown
/// before the cell runs; after it, `capture: NAME /REGEX/` reads a number from the
/// output, `keep: NAME = EXPRESSION` keeps a figure for later cells, and
/// `verdict: TEXT {EXPRESSION:1}` / `verdict if A > B: TEXT` print what was found.
/// `ask: QUESTION` waits for the student's answer (on a terminal) before the cell runs.
/// An ```output fence right after a cell holds what it printed when saved.
public struct Notebook {
    /// The front matter's `key: value` lines.
    public var meta: [String: String] = [:]
    public var steps: [Step] = []
    /// Where it was read from, for error messages.
    public var source: String = "notebook"

    /// Prose followed by the cell it leads to (the last step may have no cell).
    public struct Step {
        public var prose: String
        public var cell: Cell?
    }

    public struct Cell {
        public var commands: [Line]
        public var checks: [Check]
        public var looks: [String] = []
        public var asks: [String] = []
        public var captures: [Capture] = []
        public var keeps: [Keep] = []
        public var verdicts: [Verdict] = []
        /// The output recorded with it (saved sessions), if any.
        public var output: String?
        /// The line of its opening fence.
        public var line: Int
    }

    /// A command with the line it starts on.
    public struct Line {
        public var text: String
        public var number: Int
    }

    public var title: String { meta["title"] ?? steps.first.flatMap { Notebook.firstHeading($0.prose) } ?? source }
    public var minutes: Int? { meta["minutes"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    /// Models the notebook needs (catalogue names), from `needs: a, b`.
    public var needs: [String] {
        (meta["needs"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    public var cells: [Cell] { steps.compactMap(\.cell) }

    static func firstHeading(_ prose: String) -> String? {
        prose.split(separator: "\n").first { $0.hasPrefix("# ") }.map { String($0.dropFirst(2)) }
    }
}

/// A notebook that can't be read, with the file and line: `lessons/03.md:42: …`.
public struct NotebookError: Error, CustomStringConvertible {
    public let source: String
    public let line: Int
    public let message: String
    public var description: String { "\(source):\(line): \(message)" }
}
