/// One REPL command. Each command is one small type conforming to this.
///
/// The REPL, scripts and `lmlab -c` all go through `CommandRegistry.execute`,
/// so a command behaves the same in every way in.
public protocol Command {
    /// What the user types, e.g. "load".
    var name: String { get }
    /// Other words that run it, e.g. ["exit"] for quit.
    var aliases: [String] { get }
    var topic: Topic { get }
    /// One line for `help`.
    var summary: String { get }
    /// The synopsis, e.g. "load PATH|NAME".
    var usage: String { get }
    var examples: [String] { get }
    /// Options it accepts; anything else is a usage error before `run`.
    var flags: [Arguments.Flag] { get }
    /// How many positional words it takes; outside the range the registry answers with
    /// the usage line before `run`. nil: the command checks its words itself (free text).
    var positionals: ClosedRange<Int>? { get }
    /// Whether `save FILE.md` keeps this command (false for commands about the notebook itself).
    var recordsInTranscript: Bool { get }
    /// Candidates for the word being typed, given the words before it.
    func complete(_ previous: [String], session: Session) -> [String]
    func run(_ args: Arguments, session: Session) throws
}

public extension Command {
    var aliases: [String] { [] }
    var examples: [String] { [] }
    var flags: [Arguments.Flag] { [] }
    var positionals: ClosedRange<Int>? { nil }
    var recordsInTranscript: Bool { true }
    func complete(_ previous: [String], session: Session) -> [String] { [] }
}

/// How `help` groups commands, in this order.
public enum Topic: String, CaseIterable, Sendable {
    case session = "Session"
    case models = "Models"
    case generate = "Generate"
    case inspect = "Look inside"
    case quantize = "Quantization"
    case evaluate = "Evaluate"
    case cascade = "Cascade"
    case train = "Train"
    case lessons = "Lessons"
}
