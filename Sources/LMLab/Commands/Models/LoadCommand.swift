import Foundation
import LMEngine

/// `load PATH|NAME`: map a GGUF file, build its model, print a one-screen summary.
struct LoadCommand: Command {
    let name = "load"
    let topic = Topic.models
    let summary = "load a GGUF model by name or path and show its summary"
    let usage = "load NAME|PATH.gguf [--context N]"
    let examples = ["load smollm2", "load models/gemma-3-270m-q4_k_m.gguf", "load smollm2 --context 1024"]
    let flags = [Arguments.Flag("context", value: "N", "context length to allocate (default: the model's)")]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? ModelLocator.candidates(home: session.home) : []
    }

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals.count == 1, let word = args.positional(0) else {
            throw CommandError.usage("usage: \(usage)")
        }
        let context: Int? = try args.number("context", in: 16...1_048_576)
        let (name, url) = try ModelLocator.resolve(word, home: session.home)
        let start = Date()
        let model: DecoderModel
        do {
            model = try ModelLoader.load(url: url, contextLength: context, threads: session.settings.int("threads"))
        } catch let e as CustomStringConvertible where e is Error {
            throw CommandError.failed("can't load '\(TextUtil.sanitize(url.lastPathComponent))': \(e.description)")
        }
        session.model = nil   // release the previous one first
        let loaded = LoadedModel(name: name, url: url, model: model, loadSeconds: Date().timeIntervalSince(start))
        session.model = loaded
        session.settings.setModelDefaults(["max_tokens": String(min(256, model.cache.capacity))])
        session.applySettings()
        session.console.line(LoadCommand.summary(loaded, console: session.console))
    }

    static func summary(_ m: LoadedModel, console: Console) -> String {
        let c = m.model.config
        let fileBytes = m.model.gguf.fileSize
        var t = Table([], alignments: [.left, .left])
        t.add(["architecture", c.architecture])
        t.add(["name", TextUtil.sanitize(c.name)])
        t.add(["layers", "\(c.layers)"])
        t.add(["width (d_model)", "\(c.embedding)"])
        t.add(["attention heads", "\(c.heads) query, \(c.kvHeads) key/value, head size \(c.headDim)"])
        t.add(["feed-forward", "\(c.feedForward)"])
        t.add(["vocabulary", TextUtil.grouped(c.vocabulary) + " tokens"])
        t.add(["context", TextUtil.grouped(m.model.cache.capacity) + " tokens"
               + (m.model.cache.capacity < c.contextLength ? " (of \(TextUtil.grouped(c.contextLength)))" : "")])
        t.add(["parameters", TextUtil.count(m.parameterCount) + " (" + TextUtil.grouped(m.parameterCount) + ")"])
        t.add(["file type", (c.fileType ?? "?") + " — tensors: "
               + m.tensorTypeCounts.map { "\($0.0) ×\($0.1)" }.joined(separator: ", ")])
        t.add(["file size", TextUtil.bytes(fileBytes) + String(format: " (%.2f bits per parameter)",
                                                                Double(fileBytes * 8) / Double(max(1, m.parameterCount)))])
        t.add(["output head", m.model.outputIsTied ? "tied to the token embeddings" : "its own matrix"])
        t.add(["chat template", m.chatTemplateName])
        t.add(["load time", String(format: "%.2f s", m.loadSeconds)])
        return console.styled("loaded \(m.name)", .bold) + " (\(TextUtil.sanitize(m.url.lastPathComponent)))\n" + t.render()
    }
}

/// `unload`: free the loaded model.
struct UnloadCommand: Command {
    let name = "unload"
    let topic = Topic.models
    let summary = "unload the current model and free its memory"
    let usage = "unload"

    func run(_ args: Arguments, session: Session) throws {
        let m = try session.requireModel()
        session.model = nil
        session.settings.setModelDefaults([:])
        session.console.line("unloaded \(m.name)")
    }
}
