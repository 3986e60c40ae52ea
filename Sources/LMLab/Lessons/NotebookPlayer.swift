import Foundation
import LMEngine

/// Plays a notebook (a lesson or a saved session).
///
/// `run()` executes every cell and stops at the first failing command or check
/// (scripts, `--run`, the test suite). `play()` is the classroom mode: prose,
/// then a pause before each cell — Enter runs it, `skip`, `back`, `quit`, and
/// any other line runs as a lab command in between.
final class NotebookPlayer {
    let session: Session
    let notebook: Notebook
    var console: Console { session.console }
    private lazy var renderer = MarkdownRenderer(console: console)

    init(session: Session, notebook: Notebook) {
        self.session = session
        self.notebook = notebook
    }

    // MARK: what the notebook needs

    /// Models named in `needs:` that are not on this machine, with the command that gets each.
    func missingModels() -> [(name: String, pull: String)] {
        notebook.needs.compactMap { name in
            (try? ModelLocator.resolve(name, home: session.home)) == nil ? (name, "pull \(name)") : nil
        }
    }

    // MARK: non-interactive

    func run() throws {
        if let missing = missingModels().first {
            throw CommandError.state("\(notebook.source) needs the model '\(missing.name)', which is not here — run '\(missing.pull)' first")
        }
        header()
        for step in notebook.steps {
            showProse(step.prose)
            guard let cell = step.cell else { continue }
            let failures = try runCell(cell)
            if let first = failures.first {
                throw CommandError.failed("\(notebook.source):\(first.line): \(first.message)")
            }
            console.line()
        }
        console.line(console.styled("✓ \(notebook.title): every cell ran and every check held", .green))
    }

    // MARK: interactive

    func play() throws {
        guard let read = session.readLine else { return try run() }
        for missing in missingModels() {
            console.line("This lesson needs the model '\(missing.name)', which is not on this machine yet.")
            let answer = read("Pull it now with '\(missing.pull)'? [Y/n] ")?.lowercased() ?? "n"
            guard answer.isEmpty || answer.hasPrefix("y") else {
                console.line("Leaving the lesson; run '\(missing.pull)' when you're ready.")
                return
            }
            guard session.run(missing.pull) else { return }
        }
        header()
        let cellCount = notebook.cells.count
        var index = 0
        var cellNumber: Int { notebook.steps[..<index].filter { $0.cell != nil }.count + 1 }
        while index < notebook.steps.count {
            let step = notebook.steps[index]
            showProse(step.prose)
            guard let cell = step.cell else { index += 1; continue }
            console.line(console.styled("┌─ cell \(cellNumber) of \(cellCount)", .dim))
            for command in cell.commands { console.line(console.styled("│ ", .dim) + console.styled("lab> ", .green) + command.text) }
            console.line(console.styled("└─", .dim))
            var next: Int?
            while next == nil {
                guard let line = read("▶ Enter runs it · skip · back · quit · or type a command: ") else {
                    console.line(); console.line("Left the lesson."); return
                }
                switch line.trimmingCharacters(in: .whitespaces).lowercased() {
                case "":
                    let failures = try runCell(cell, interactive: true)
                    for f in failures { console.line(console.styled("✗ line \(f.line): \(f.message)", .red)) }
                    if session.interrupt.isSet { session.interrupt.reset(); console.line("(stopped)") }
                    next = index + 1
                case "skip", "s", "next", "n": next = index + 1
                case "back", "b":
                    var previous = index - 1
                    while previous > 0 && notebook.steps[previous].cell == nil { previous -= 1 }
                    next = max(0, previous)
                case "quit", "q", "exit":
                    console.line("Left the lesson.")
                    return
                default:
                    session.run(line)
                    session.interrupt.reset()
                }
            }
            index = next!
        }
        console.line(console.styled("End of \(notebook.title).", .bold))
    }

    // MARK: cells

    struct Failure { let line: Int; let message: String }

    /// Runs a cell's commands, then its checks against what they printed and measured.
    /// Returns what failed; throws only when Ctrl-C stopped a non-interactive run.
    func runCell(_ cell: Notebook.Cell, interactive: Bool = false) throws -> [Failure] {
        session.figures.clear()
        for look in cell.looks { console.line(console.styled("▸ look for: ", .cyan) + look) }
        var answers: [String] = []
        for question in cell.asks {
            console.line(console.styled("? ", .cyan) + console.styled(question, .bold))
            if interactive, let read = session.readLine {
                let answer = read("your answer (Enter when done)> ") ?? ""
                answers.append(answer.trimmingCharacters(in: .whitespaces))
            } else {
                console.line(console.styled("  (not on a terminal: no answer is asked for; the sketch follows)", .dim))
                answers.append("")
            }
        }
        var output = ""
        for command in cell.commands {
            console.line(console.styled("lab> ", .green) + console.styled(command.text, .bold))
            let recording = console.startRecording()
            let ok = session.run(command.text)
            output += console.stopRecording(recording)
            if session.interrupt.isSet {
                if session.readLine == nil { throw CommandError.interrupted }
                return []
            }
            if !ok { return [Failure(line: command.number, message: "'\(TextUtil.truncate(command.text, to: 60))' failed")] }
        }
        var failures: [Failure] = []
        for capture in cell.captures {
            switch capture.value(in: output) {
            case .success(let v): session.figures[capture.name] = v
            case .failure(let e): failures.append(Failure(line: cell.line, message: e.description))
            }
        }
        for keep in cell.keeps {
            if let v = keep.expression.value({ session.figures[$0] }) {
                session.figures[keep.name] = v
                session.figures.keep(keep.name, v)
            } else {
                let missing = keep.expression.figureNames.filter { session.figures[$0] == nil }
                failures.append(Failure(line: cell.line, message: "keep \(keep.name): "
                                        + (missing.isEmpty ? "\(keep.expression) divides by zero" : "no figure '\(missing[0])' was measured")))
            }
        }
        for check in cell.checks {
            if let why = check.failure(output: output, figures: session.figures) {
                failures.append(Failure(line: cell.line, message: "check '\(check)' failed: \(why)"))
            } else {
                console.line(console.styled("  ✓ expect: \(check)", .dim))
            }
        }
        var said: [String] = []
        for verdict in cell.verdicts {
            guard let text = verdict.render({ session.figures[$0] }) else { continue }
            said.append(text)
            console.line(console.styled("⇒ ", .cyan) + console.styled(text, .bold))
        }
        for (question, answer) in zip(cell.asks, answers) {
            session.drillAnswers.removeAll { $0.question == question }
            session.drillAnswers.append((question, answer, said.joined(separator: " ")))
        }
        return failures
    }

    private func header() {
        var parts: [String] = []
        if let m = notebook.minutes { parts.append("about \(m) minutes") }
        if !notebook.needs.isEmpty { parts.append("uses " + notebook.needs.joined(separator: ", ")) }
        // The title shows from the prose's own heading; only a notebook without one gets it here.
        let hasHeading = notebook.steps.first.flatMap { Notebook.firstHeading($0.prose) } != nil
        if !hasHeading { console.line(console.styled(notebook.title, .bold)) }
        if !parts.isEmpty { console.line(console.styled("(" + parts.joined(separator: "; ") + ")", .dim)) }
        if !hasHeading || !parts.isEmpty { console.line() }
    }

    private func showProse(_ prose: String) {
        let text = renderer.render(prose)
        guard !text.isEmpty else { return }
        console.line(text)
        console.line()
    }
}
