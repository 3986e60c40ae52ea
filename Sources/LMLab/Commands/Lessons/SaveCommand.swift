import Foundation

/// `save FILE.md|FILE.ipynb`: writes the session — each command that succeeded
/// and what it printed — as a notebook that `open` replays, or as Jupyter's format.
/// `save card FILE.md`: lesson 10's drill as a one-page card — each question, the
/// student's answer and the sketch filled with the figures measured this session.
/// `save FILE.gguf`: writes the loaded model's weights as they are now (after `quant`).
struct SaveCommand: Command {
    let name = "save"
    let topic = Topic.lessons
    let summary = "save the session as a notebook (.md, .ipynb) or the current weights as a model (.gguf)"
    let usage = "save FILE.md|FILE.ipynb|FILE.gguf | save card FILE.md"
    let positionals: ClosedRange<Int>? = 1...2
    let examples = ["save today.md", "save card interview.md", "save today.ipynb", "quant q4_0; save smollm2-q4_0.gguf"]
    let recordsInTranscript = false

    func run(_ args: Arguments, session: Session) throws {
        if args.positionals.count == 2 {
            guard args.positionals[0] == "card" else { throw CommandError.usage("usage: \(usage)") }
            let path = args.positionals[1]
            return try saveCard(to: LabPath.url(path, home: session.home), shown: path, session: session)
        }
        let path = args.positionals[0]
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        if url.pathExtension.lowercased() == "gguf" { return try saveModel(to: url, shown: path, session: session) }
        let entries = session.transcript.entries.count
        guard entries > 0 else { throw CommandError.state("nothing to save yet: no command has run in this session") }
        let title = "lmlab session, " + NotebookWriter.timestamp(session.transcript.started).prefix(16).replacingOccurrences(of: "T", with: " ")
        switch url.pathExtension.lowercased() {
        case "md":
            try NotebookWriter.writeAtomically(Data(NotebookWriter.markdown(session.transcript, title: title).utf8), to: url)
        case "ipynb":
            try NotebookWriter.writeAtomically(try NotebookWriter.jupyter(session.transcript, title: title), to: url)
        default:
            throw CommandError.usage("save writes .md (lesson format), .ipynb (Jupyter) or .gguf (the model); got '\(TextUtil.sanitize(path))'")
        }
        session.console.line("saved \(entries) command\(entries == 1 ? "" : "s") with their output to \(TextUtil.sanitize(path))")
    }

    private func saveCard(to url: URL, shown: String, session: Session) throws {
        guard !session.drillAnswers.isEmpty else {
            throw CommandError.state("no drill answers yet: play 'lesson 10' first, then 'save card \(TextUtil.sanitize(shown))'")
        }
        if shown.hasPrefix(LabPath.homeVariable + "/") {
            // The lab's own folder (and its scratch) is made when missing; a mistyped folder elsewhere is still refused.
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        try NotebookWriter.writeAtomically(Data(SaveCommand.card(session.drillAnswers).utf8), to: url)
        session.console.line("saved a card of \(session.drillAnswers.count) answer\(session.drillAnswers.count == 1 ? "" : "s") to \(TextUtil.sanitize(shown))")
    }

    /// One page: each question, the student's answer (or that none was given) and the measured sketch.
    static func card(_ answers: [(question: String, answer: String, sketch: String)]) -> String {
        var out = "# Interview card\n\nAnswers from lesson 10, with the figures measured in this session.\n"
        for (i, a) in answers.enumerated() {
            out += "\n## \(i + 1). \(a.question)\n\n"
            out += "**Your answer:** " + (a.answer.isEmpty ? "_(none given)_" : a.answer) + "\n\n"
            out += "**Sketch from your numbers:** " + (a.sketch.isEmpty ? "_(nothing measured yet)_" : a.sketch) + "\n"
        }
        return out
    }

    private func saveModel(to url: URL, shown: String, session: Session) throws {
        let loaded = try session.requireModel()
        guard url.standardizedFileURL.resolvingSymlinksInPath() != loaded.url.standardizedFileURL.resolvingSymlinksInPath() else {
            throw CommandError.usage("'\(TextUtil.sanitize(shown))' is the loaded model's own file; save to another name")
        }
        let start = Date()
        do { try loaded.model.writeGGUF(to: url, mostly: loaded.weightSet?.requested) } catch {
            throw CommandError.failed("can't write '\(TextUtil.sanitize(shown))': \(TextUtil.reason(for: error))")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let weights = loaded.weightSet.map { "\($0.requested.name) weights" } ?? "the file's weights"
        let seconds = String(format: "%.2f", Date().timeIntervalSince(start))
        session.console.line("saved \(weights) of \(loaded.name) to \(TextUtil.sanitize(shown)) (\(TextUtil.bytes(bytes)), "
                             + "\(loaded.model.gguf.tensors.count) tensors) in \(seconds) s — 'load \(TextUtil.sanitize(shown))' opens it")
    }
}
