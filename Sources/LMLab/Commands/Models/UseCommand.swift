import Foundation

/// `use NAME`: make another loaded model the current one.
struct UseCommand: Command {
    let name = "use"
    let topic = Topic.models
    let summary = "make another loaded model the current one"
    let usage = "use NAME"
    let positionals: ClosedRange<Int>? = 1...1
    let examples = ["use big", "use smollm2"]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? session.models.names : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let name = args.positionals[0]
        if let api = session.models.api(name) {
            session.models.use(api.name)
            session.adoptModelDefaults()
            return session.console.line("now using \(api.name) (\(api.endpoint.display))")
        }
        try session.switchModel(to: name)
        let m = try session.requireModel()
        session.console.line("now using \(m.name) (\(TextUtil.sanitize(m.url.lastPathComponent)))")
    }
}
