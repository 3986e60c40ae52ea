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
