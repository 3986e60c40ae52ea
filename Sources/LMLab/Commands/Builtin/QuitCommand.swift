/// `quit` (also `exit`, `bye`) leaves the lab.
struct QuitCommand: Command {
    let name = "quit"
    let aliases = ["exit", "bye"]
    let topic = Topic.session
    let summary = "leave the lab (Ctrl-D works too)"
    let usage = "quit"
    let recordsInTranscript = false

    func run(_ args: Arguments, session: Session) throws {
        session.wantsToQuit = true
    }
}
