import Foundation
import LMEngine

/// A model the session has loaded, with what the lab shows about it.
public final class LoadedModel {
    public let name: String
    public let url: URL
    public let model: DecoderModel
    public let loadSeconds: Double
    public let chatTemplate: ChatTemplate?
    /// The conversation `chat` keeps, and the tokens currently in the cache for it.
    var conversation: [ChatMessage] = []
    var conversationTokens: [Int32] = []

    /// Forgets `chat`'s conversation: the caller is about to replace what the cache holds.
    func forgetConversation() { conversation = []; conversationTokens = [] }
    /// The weights `quant` made (nil: the file's own), kept alive while in use.
    var weightSet: WeightSet?
    /// The file's weights expanded to f32, the reference `kld` compares against (built on first use).
    var referenceSet: WeightSet?

    func reference(shouldStop: () -> Bool) throws -> WeightSet {
        if let referenceSet { return referenceSet }
        let set = try WeightSet(model: model, type: .f32, shouldStop: shouldStop)
        referenceSet = set
        return set
    }

    init(name: String, url: URL, model: DecoderModel, loadSeconds: Double) {
        self.name = name; self.url = url; self.model = model; self.loadSeconds = loadSeconds
        chatTemplate = ChatTemplate.detect(from: model.gguf)
    }

    /// The chat template's name for display.
    public var chatTemplateName: String {
        switch chatTemplate {
        case .none: return "none"
        case .some(let t): return String(describing: t).split(separator: "(").first.map { String($0) } ?? "?"
        }
    }

    /// All parameters: the elements of every tensor in the file.
    public var parameterCount: Int { model.gguf.tensors.reduce(0) { $0 + $1.elementCount } }

    /// How many tensors of each type the file holds, most first: [("Q4_1", 210), …].
    public var tensorTypeCounts: [(String, Int)] {
        var counts: [String: Int] = [:]
        for t in model.gguf.tensors { counts[t.type.name, default: 0] += 1 }
        return counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
    }
}

/// Finds a model file from what the user typed: a path, or a known name
/// looked up in the models folders.
public enum ModelLocator {
    /// Where model files are looked for: $LMLAB_MODELS, ./models, the models
    /// folder of the checkout the binary was built in, and $LMLAB_HOME/models.
    public static func folders(home: URL) -> [URL] {
        var out: [URL] = []
        if let m = ProcessInfo.processInfo.environment["LMLAB_MODELS"], !m.isEmpty { out.append(URL(fileURLWithPath: m)) }
        out.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("models"))
        if let root = checkoutRoot { out.append(root.appendingPathComponent("models")) }
        out.append(home.appendingPathComponent("models"))
        return out
    }

    /// The checkout the running binary was built in, if it was built in one:
    /// .build/<triple>/release/lmlab → the package root is four levels up (or three via the symlink).
    /// Models, lessons and the evaluation text are found there when lmlab runs from elsewhere.
    public static var checkoutRoot: URL? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
        }
        return nil
    }

    /// Where `pull` stores models: $LMLAB_MODELS, else the checkout's models
    /// folder, else $LMLAB_HOME/models.
    public static func downloadFolder(home: URL) -> URL {
        let all = folders(home: home)
        if let m = ProcessInfo.processInfo.environment["LMLAB_MODELS"], !m.isEmpty { return URL(fileURLWithPath: m) }
        return all.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("catalog.json").path) }
            ?? home.appendingPathComponent("models")
    }

    public static func resolve(_ word: String, home: URL) throws -> (name: String, url: URL) {
        let fm = FileManager.default
        if word.hasPrefix(ollamaPrefix) {
            // Ollama's store: the blob is a GGUF, mapped where it lies.
            let entry = try OllamaStore.fromEnvironment().resolve(OllamaStore.Reference(parsing: String(word.dropFirst(ollamaPrefix.count))))
            return (entry.reference.sessionName, entry.blob)
        }
        if word.contains("/") || word.hasSuffix(".gguf") || word.hasSuffix(".bin") {
            let url = LabPath.url(word, home: home)
            guard fm.fileExists(atPath: url.path) else {
                throw CommandError.failed("no file at '\(TextUtil.sanitize(word))'")
            }
            return (url.deletingPathExtension().lastPathComponent, url)
        }
        let catalog = try? Catalog.load(home: home)
        let catalogFile = catalog?.entry(word)?.file
        let file = catalogFile ?? word + ".gguf"
        for folder in folders(home: home) {
            let url = folder.appendingPathComponent(file)
            if fm.fileExists(atPath: url.path) { return (word, url) }
        }
        if catalogFile != nil {
            throw CommandError.state("model '\(word)' is not downloaded yet — try 'pull \(word)'")
        }
        let names = catalog?.allNames ?? []
        let hint = Suggest.closest(to: word, in: names).map { " — did you mean '\($0)'?" } ?? ""
        throw CommandError.usage("no model named '\(TextUtil.sanitize(word))'\(hint); give a path to a .gguf file or one of: "
                                 + names.joined(separator: ", "))
    }

    /// `load ollama:NAME[:TAG]` reads Ollama's store (OllamaStore).
    public static let ollamaPrefix = "ollama:"

    /// Names and files to offer for completion.
    public static func candidates(home: URL) -> [String] {
        var names = Set((try? Catalog.load(home: home))?.allNames ?? [])
        for folder in folders(home: home) {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where f.hasSuffix(".gguf") {
                names.insert(String(f.dropLast(5)))
            }
        }
        return names.sorted()
    }
}
