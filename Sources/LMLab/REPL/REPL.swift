import Foundation

/// The three ways in: an interactive prompt, a script, and `-c` commands.
/// All run lines through `Session.run`, so commands behave the same in each.
public enum REPL {
    public static let prompt = "lab> "
    public static let continuationPrompt = "...> "

    /// Exit codes: 0 all commands succeeded, 1 a command failed, 130 Ctrl-C.
    public static let interruptedExitCode: Int32 = 130

    /// Runs commands one after another, stopping at the first that fails (its
    /// error is on stderr). Used for scripts, piped stdin and `-c`.
    public static func runCommands(_ lines: [String], session: Session) -> Int32 {
        var assembler = InputAssembler()
        var commands: [String] = []
        for line in lines { if let c = assembler.feed(line) { commands.append(c) } }
        if let rest = assembler.unfinished() { commands.append(rest) }  // reported as an unclosed block
        for command in commands {
            if session.wantsToQuit { break }
            let ok = session.run(command)
            if session.interrupt.isSet { return interruptedExitCode }
            if !ok { return 1 }
        }
        return 0
    }

    /// Runs a script file: one command per line, `#` comments, `"""` blocks.
    public static func runScript(at path: String, session: Session) -> Int32 {
        guard let data = FileManager.default.contents(atPath: path) else {
            session.console.error("can't read script '\(TextUtil.sanitize(path))'")
            return 1
        }
        guard let text = String(data: data, encoding: .utf8) else {
            session.console.error("script '\(TextUtil.sanitize(path))' is not UTF-8 text")
            return 1
        }
        return runCommands(text.components(separatedBy: "\n"), session: session)
    }

    /// Reads standard input that is not a terminal as a script.
    public static func runStandardInput(session: Session) -> Int32 {
        var lines: [String] = []
        while let line = readLine(strippingNewline: true) { lines.append(line) }
        return runCommands(lines, session: session)
    }

    /// The interactive prompt, until Ctrl-D or `quit`.
    /// `firstCommand` runs before the first prompt (`lmlab lesson 3` opens the lab playing lesson 3).
    public static func runInteractive(session: Session, firstCommand: String? = nil) -> Int32 {
        session.interactive = true
        Interrupt.installHandler()
        let editor = LineEditor(historyFile: session.home.appendingPathComponent("history"))
        LineEditor.completer = { [unowned session] line in session.registry.completions(line: line, session: session) }
        session.readLine = { prompt in
            switch editor.read(prompt: prompt) {
            case .line(let l): editor.remember(l); return l
            case .interrupted, .endOfInput: return nil
            }
        }
        let console = session.console
        console.line("lmlab \(LMLabInfo.version) — a lab for small and large language models.")
        console.line("Type 'help' for commands, Tab to complete, Ctrl-C to stop, Ctrl-D or 'quit' to leave.")
        if let firstCommand {
            session.run(firstCommand)
            session.interrupt.reset()
        }
        var assembler = InputAssembler()
        while !session.wantsToQuit {
            switch editor.read(prompt: assembler.isContinuing ? continuationPrompt : prompt) {
            case .endOfInput:
                console.line()
                return 0
            case .interrupted(let lineWasEmpty):
                _ = assembler.unfinished()
                console.line("^C")
                if lineWasEmpty { console.line("(to leave, press Ctrl-D or type 'quit')") }
            case .line(let raw):
                editor.remember(raw)
                guard let command = assembler.feed(raw) else { continue }
                session.run(command)
                if session.interrupt.isSet {
                    session.interrupt.reset()
                    console.line()
                }
            }
        }
        return 0
    }
}
