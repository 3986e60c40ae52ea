import Foundation

/// `rm NAME`: deletes a pulled model's file from the models folder. Models that
/// ship with lmlab, and models loaded now, are refused.
struct RmCommand: Command {
    let name = "rm"
    let topic = Topic.models
    let summary = "delete a pulled model's file (pull brings it back)"
    let usage = "rm NAME"
    let positionals: ClosedRange<Int>? = 1...1
    let examples = ["rm gemma3"]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? ModelLocator.candidates(home: session.home) : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let word = args.positionals[0]
        guard !word.contains("/") else { throw CommandError.usage("rm takes a model name from 'models', not a path") }
        let entry = (try? Catalog.load(home: session.home))?.entry(word)
        if let entry, entry.parts.isEmpty {
            throw CommandError.usage("\(entry.name) ships with lmlab and can't be removed")
        }
        let (_, url) = try ModelLocator.resolve(word, home: session.home)
        let file = url.standardizedFileURL.resolvingSymlinksInPath()
        if let loaded = session.models.all.first(where: { $0.url.standardizedFileURL.resolvingSymlinksInPath() == file }) {
            throw CommandError.state("\(loaded.name) is loaded — 'unload \(loaded.name)' first")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        do { try FileManager.default.removeItem(at: url) } catch {
            throw CommandError.failed("can't delete '\(url.path)': \(error.localizedDescription)")
        }
        let again = entry.map { " — 'pull \($0.aliases.first ?? $0.name)' brings it back" } ?? ""
        session.console.line("deleted \(url.path) (\(TextUtil.bytes(bytes)) freed)\(again)")
    }
}
