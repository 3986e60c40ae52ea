import Foundation

/// `open FILE.md`: plays a saved session or any notebook in the lesson format.
struct OpenCommand: Command {
    let name = "open"
    let topic = Topic.lessons
    let summary = "replay a saved session or notebook (.md) cell by cell (--run: all at once)"
    let usage = "open FILE.md [--run]"
    let positionals: ClosedRange<Int>? = 1...1
    let flags = [Arguments.Flag("run", "run every cell without pausing and fail on the first failed check")]
    let recordsInTranscript = false

    func run(_ args: Arguments, session: Session) throws {
        let path = args.positionals[0]
        guard path.hasSuffix(".md") else {
            throw CommandError.usage("open reads Markdown notebooks (.md); '\(TextUtil.sanitize(path))' is not one")
        }
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        let notebook = try LessonLibrary.load(url, session: session, shownAs: path)
        let player = NotebookPlayer(session: session, notebook: notebook)
        if args.flag("run") || !session.interactive { try player.run() } else { try player.play() }
    }
}
