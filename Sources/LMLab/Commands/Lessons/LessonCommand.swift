import Foundation

/// `lesson N`: plays a lesson, pausing before each cell; `--run` runs it all and checks it.
struct LessonCommand: Command {
    let name = "lesson"
    let topic = Topic.lessons
    let summary = "play a lesson cell by cell (--run: all at once, stopping at a failed check)"
    let usage = "lesson N|SLUG [--run]"
    let examples = ["lesson 1", "lesson quantization", "lesson 4 --run"]
    let flags = [Arguments.Flag("run", "run every cell without pausing and fail on the first failed check")]
    let recordsInTranscript = false

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? LessonLibrary.all().flatMap { [String($0.number), $0.slug] } : []
    }

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals.count == 1, let word = args.positional(0) else {
            throw CommandError.usage("usage: \(usage) — 'lessons' lists them")
        }
        let entry = try LessonLibrary.find(word)
        let notebook = try LessonLibrary.load(entry.url, session: session, shownAs: LessonLibrary.shownPath(entry))
        let player = NotebookPlayer(session: session, notebook: notebook)
        if args.flag("run") || !session.interactive { try player.run() } else { try player.play() }
    }
}
