import Foundation
import LMEngine

/// `load PATH|NAME|ollama:MODEL[:TAG] [as NAME]`: map a GGUF file (Ollama's blobs in place), build its model, print a one-screen summary.
/// `load api:URL#MODEL` holds a model on an OpenAI-compatible server instead (LoadAPIModel).
/// Several models can be loaded at once, each under its own name; the one
/// loaded last becomes current (`use NAME` switches).
struct LoadCommand: Command {
    let name = "load"
    let topic = Topic.models
    let summary = "load a GGUF model by name or path (several at once: `as NAME`) and show its summary"
    let usage = "load NAME|PATH.gguf|ollama:MODEL[:TAG]|MODEL.bin (llama2.c)|api:URL#MODEL [as NAME] [--context N] [--key-env VAR] [--timeout S]"
    let examples = ["load smollm2", "load ollama:qwen3:4b", "load gemma3 as big", "load models/gemma-3-270m-q4_k_m.gguf", "load smollm2 --context 1024",
                    "load api:http://127.0.0.1:8080/v1#smollm2 as remote --key-env LMLAB_KEY"]
    let flags = [Arguments.Flag("context", value: "N", "context length to allocate (default: the model's)"),
                 Arguments.Flag("key-env", value: "VAR", "api: read the API key from this environment variable (never typed, never stored)"),
                 Arguments.Flag("timeout", value: "S", "api: seconds to wait to connect and between pieces of an answer (default 30)")]

    func complete(_ previous: [String], session: Session) -> [String] {
        if previous.isEmpty { return ModelLocator.candidates(home: session.home) }
        return previous.count == 1 ? ["as"] : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let p = args.positionals
        guard p.count == 1 || (p.count == 3 && p[1] == "as"), let word = args.positional(0) else {
            throw CommandError.usage("usage: \(usage)")
        }
        if word.hasPrefix(APIEndpoint.prefix) {
            if args.options["context"] != nil { throw CommandError.usage("--context is for local models; an API model's context is the server's") }
            return try LoadAPIModel.run(word: word, alias: p.count == 3 ? p[2] : nil, args, session: session)
        }
        if args.options["key-env"] != nil || args.options["timeout"] != nil {
            throw CommandError.usage("--key-env and --timeout are for API models (load api:URL#MODEL)")
        }
        let context: Int? = try args.number("context", in: 16...1_048_576)
        let (fileName, url) = try ModelLocator.resolve(word, home: session.home)
        let name = p.count == 3 ? try LoadCommand.checkedName(p[2]) : fileName
        // A model loaded again under the same name is replaced: its memory is not needed twice.
        let replacing = session.models[name]
        try LoadCommand.checkFits(url: url, name: name, context: context, session: session, freed: replacing)
        let start = Date()
        let model: DecoderModel
        do {
            model = try ModelLoader.load(url: url, contextLength: context, threads: session.settings.int("threads"))
        } catch {
            let shown = word.hasPrefix(ModelLocator.ollamaPrefix) ? word : url.lastPathComponent
            throw CommandError.failed("can't load '\(TextUtil.sanitize(shown))': \(ErrorLine.text(for: error))")
        }
        // Building a model can't stop halfway; Ctrl-C during it drops the result instead.
        try session.interrupt.check()
        let loaded = LoadedModel(name: name, url: url, model: model, loadSeconds: Date().timeIntervalSince(start))
        session.models.add(loaded)
        session.adoptModelDefaults()
        session.console.line(LoadCommand.summary(loaded, console: session.console))
        let others = session.models.names.filter { $0 != name }
        if !others.isEmpty {
            session.console.line("\(name) is now the current model; also loaded: \(others.joined(separator: ", ")) ('use NAME' switches)")
        }
    }

    /// A name for `as NAME`: a word of letters, digits, '-', '_' or '.', not starting with '-'.
    static func checkedName(_ raw: String) throws -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard !raw.isEmpty, raw.count <= 40, !raw.hasPrefix("-"),
              raw.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
            throw CommandError.usage("a model name is one word of letters, digits, '-', '_' or '.', got '\(TextUtil.sanitize(raw))'")
        }
        return raw
    }

    /// Refuses, before anything is allocated, a model that would not fit in the available memory.
    /// The file is only mapped here (no pages read beyond its header).
    static func checkFits(url: URL, name: String, context: Int?, session: Session, freed: LoadedModel?) throws {
        guard var available = session.availableMemory() else { return }
        // A file whose metadata can't be read is left to the loader, which names what is wrong.
        guard let need = try? MemoryNeed(gguf: try GGUFFile(url: url), contextLength: context) else { return }
        if let freed { available += freed.memory.total }
        if let refusal = need.refusal(name: name, available: available) { throw CommandError.state(refusal) }
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
