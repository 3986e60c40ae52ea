import Foundation

/// `save FILE.md|FILE.ipynb`: writes the session — each command that succeeded
/// and what it printed — as a notebook that `open` replays, or as Jupyter's format.
struct SaveCommand: Command {
    let name = "save"
    let topic = Topic.lessons
    let summary = "save this session's commands and outputs as a notebook (.md or .ipynb)"
    let usage = "save FILE.md|FILE.ipynb"
    let examples = ["save today.md", "save today.ipynb"]
    let recordsInTranscript = false

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals.count == 1, let path = args.positional(0) else { throw CommandError.usage("usage: \(usage)") }
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        let entries = session.transcript.entries.count
        guard entries > 0 else { throw CommandError.state("nothing to save yet: no command has run in this session") }
        let title = "lmlab session, " + NotebookWriter.timestamp(session.transcript.started).prefix(16).replacingOccurrences(of: "T", with: " ")
        switch url.pathExtension.lowercased() {
        case "md":
            try NotebookWriter.writeAtomically(Data(NotebookWriter.markdown(session.transcript, title: title).utf8), to: url)
        case "ipynb":
            try NotebookWriter.writeAtomically(try NotebookWriter.jupyter(session.transcript, title: title), to: url)
        default:
            throw CommandError.usage("save writes .md (lesson format) or .ipynb (Jupyter); got '\(TextUtil.sanitize(path))'")
        }
        session.console.line("saved \(entries) command\(entries == 1 ? "" : "s") with their output to \(TextUtil.sanitize(path))")
    }
}
