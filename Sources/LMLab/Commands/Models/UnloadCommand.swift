import Foundation

/// `unload [NAME]`: free a loaded model (the current one when no name is given).
struct UnloadCommand: Command {
    let name = "unload"
    let topic = Topic.models
    let summary = "unload a model (the current one by default) and free its memory"
    let usage = "unload [NAME]"
    let positionals: ClosedRange<Int>? = 0...1
    let examples = ["unload", "unload big"]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? session.models.names : []
    }

    func run(_ args: Arguments, session: Session) throws {
        // An API model has no memory here to free; unloading only forgets it (and its key).
        let name: String
        if let word = args.positional(0), let api = session.models.api(word) {
            name = api.name
        } else if args.positional(0) == nil, let api = session.models.currentAPI {
            name = api.name
        } else {
            name = try args.positional(0).map { try session.models.require($0) }?.name ?? session.requireModel().name
        }
        let wasCurrent = name == session.models.currentName
        session.models.remove(name)
        if wasCurrent { session.adoptModelDefaults() }
        var message = "unloaded \(name)"
        if wasCurrent, let now = session.models.currentName { message += "; the current model is now \(now)" }
        session.console.line(message)
    }
}
