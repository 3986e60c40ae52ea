import ArgumentParser
import Foundation
import LMLab

/// Argument parsing and start-up only; everything else is in LMLab.
struct LMLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lmlab",
        abstract: "A terminal lab for learning what small and large language models trade against each other.",
        discussion: """
            With no arguments on a terminal, opens the interactive lab (prompt `lab> `).
            Examples:
              lmlab                         open the lab
              lmlab -c "help; show settings"
              lmlab run demo.lab            run a script, one command per line
              lmlab lesson 3 --run          run lesson 3 start to end, checking it
              lmlab serve smollm2 --port 8080   an OpenAI-compatible server (Ctrl-C stops)
              echo help | lmlab             piped input runs as a script
            """,
        version: LMLabInfo.version
    )

    @Option(name: .customShort("c"), help: "Run commands separated by ';' and exit.")
    var commands: String?

    @Flag(name: .customLong("run"), help: "With `lesson N`: run the whole lesson without pausing, failing on the first failed check.")
    var runLesson = false

    @Argument(parsing: .allUnrecognized,
              help: "`run FILE` runs a script of lab commands; `lesson N` plays a lesson; `serve [MODEL ...] [OPTIONS]` serves models.")
    var words: [String] = []

    func run() throws {
        let session = Session()
        let code: Int32
        if let commands {
            guard words.isEmpty else { throw ValidationError("give either -c or a subcommand, not both") }
            Interrupt.installHandler()
            code = REPL.runCommands(InputAssembler.splitCommands(commands), session: session)
        } else if words.first == "run" {
            guard words.count == 2 else { throw ValidationError("usage: lmlab run FILE.lab") }
            Interrupt.installHandler()
            code = REPL.runScript(at: words[1], session: session)
        } else if words.first == "serve" {
            // The rest is `serve`'s own line: models and its options (see `help serve`).
            Interrupt.installHandler()
            let rest = words.dropFirst().map { $0.contains(" ") ? "\"\($0)\"" : $0 }
            code = REPL.runCommands([(["serve"] + rest).joined(separator: " ")], session: session)
        } else if words.first == "lesson" {
            guard words.count == 2 else { throw ValidationError("usage: lmlab lesson N [--run]") }
            if runLesson || isatty(STDIN_FILENO) != 1 {
                Interrupt.installHandler()
                code = REPL.runCommands(["lesson \(words[1]) --run"], session: session)
            } else {
                code = REPL.runInteractive(session: session, firstCommand: "lesson \(words[1])")
            }
        } else if runLesson {
            throw ValidationError("--run goes with `lesson N`")
        } else if !words.isEmpty {
            throw ValidationError("unknown subcommand '\(words[0])'; try `lmlab --help`")
        } else if isatty(STDIN_FILENO) == 1 {
            code = REPL.runInteractive(session: session)
        } else {
            Interrupt.installHandler()
            code = REPL.runStandardInput(session: session)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

// A write past the file-size limit (RLIMIT_FSIZE, `ulimit -f`) would otherwise
// kill the lab with SIGXFSZ; ignored, the write fails with EFBIG like one on a
// full disk, and the command that made it reports a one-line error.
signal(SIGXFSZ, SIG_IGN)
LMLabCommand.main()
