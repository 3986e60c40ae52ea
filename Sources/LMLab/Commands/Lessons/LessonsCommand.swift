import Foundation

/// `lessons`: the lessons with their length and the models they need.
struct LessonsCommand: Command {
    let name = "lessons"
    let topic = Topic.lessons
    let summary = "list the lessons, how long each takes and what it needs"
    let usage = "lessons"
    let recordsInTranscript = false

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals.isEmpty else { throw CommandError.usage("lessons takes no arguments; 'lesson N' plays one") }
        let entries = LessonLibrary.all()
        guard !entries.isEmpty else { throw CommandError.state("no lessons found (looked in: \(LessonLibrary.folders().map(\.path).joined(separator: ", ")))") }
        let console = session.console
        var table = Table(["#", "lesson", "min", "needs"])
        for entry in entries {
            do {
                let notebook = try LessonLibrary.load(entry.url, session: session, shownAs: LessonLibrary.shownPath(entry))
                let needs = notebook.needs.map { name in
                    (try? ModelLocator.resolve(name, home: session.home)) == nil ? name + " (pull \(name))" : name
                }
                table.add([String(entry.number), notebook.title, notebook.minutes.map(String.init) ?? "?",
                           needs.isEmpty ? "—" : needs.joined(separator: ", ")])
            } catch {
                table.add([String(entry.number), entry.slug, "?", "unreadable: \(error)"])
            }
        }
        console.line(table.render(console: console))
        console.line(console.styled("Play one with 'lesson N'; 'lmlab lesson N --run' runs it start to end and checks it.", .dim))
    }
}

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

/// `open FILE.md`: plays a saved session or any notebook in the lesson format.
struct OpenCommand: Command {
    let name = "open"
    let topic = Topic.lessons
    let summary = "replay a saved session or notebook (.md) cell by cell (--run: all at once)"
    let usage = "open FILE.md [--run]"
    let flags = [Arguments.Flag("run", "run every cell without pausing and fail on the first failed check")]
    let recordsInTranscript = false

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals.count == 1, let path = args.positional(0) else { throw CommandError.usage("usage: \(usage)") }
        guard path.hasSuffix(".md") else {
            throw CommandError.usage("open reads Markdown notebooks (.md); '\(TextUtil.sanitize(path))' is not one")
        }
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        let notebook = try LessonLibrary.load(url, session: session, shownAs: path)
        let player = NotebookPlayer(session: session, notebook: notebook)
        if args.flag("run") || !session.interactive { try player.run() } else { try player.play() }
    }
}
