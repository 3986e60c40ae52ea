import Foundation
import LMEngine

/// Ollama's local model store, read in place (nothing is copied):
///
///     $OLLAMA_MODELS or ~/.ollama/models/
///       manifests/<host>/<namespace>/<model>/<tag>   JSON: {"layers": [{"mediaType", "digest", "size"}, …]}
///       blobs/sha256-<hex>                           content-addressed files; the model layer is a GGUF
///
/// `ollama:qwen3:4b` names host registry.ollama.ai, namespace library, model qwen3, tag 4b;
/// `ollama:me/mine` namespace me, tag latest; `ollama:host.example/me/mine:q4` all three.
public struct OllamaStore {
    public static let defaultHost = "registry.ollama.ai"
    public static let defaultNamespace = "library"
    public static let defaultTag = "latest"
    /// The layer holding the weights; the others are template, params, licence, system prompt.
    public static let modelMediaType = "application/vnd.ollama.image.model"

    public let root: URL

    public init(root: URL) { self.root = root }

    /// `$OLLAMA_MODELS` when set, else `~/.ollama/models`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> OllamaStore {
        if let dir = environment["OLLAMA_MODELS"], !dir.isEmpty {
            return OllamaStore(root: URL(fileURLWithPath: (dir as NSString).expandingTildeInPath))
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return OllamaStore(root: home.appendingPathComponent(".ollama/models"))
    }

    /// A model's full name in the store.
    public struct Reference: Equatable, CustomStringConvertible {
        public var host, namespace, model, tag: String

        /// Parses `[host/][namespace/]model[:tag]`; every part is letters, digits, '.', '_' or '-'.
        public init(parsing text: String) throws {
            var path = text
            var tag = OllamaStore.defaultTag
            if let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") {
                tag = String(text[text.index(after: colon)...])
                path = String(text[..<colon])
            }
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
            func isWord(_ part: String, extra: Character? = nil) -> Bool {
                !part.isEmpty && part != "." && part != ".." && part.count <= 128
                    && part.allSatisfy { $0 == extra || $0.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) } }
            }
            // A host may carry a port (host.example:5000).
            let valid = (1...3).contains(parts.count) && isWord(tag)
                && parts.enumerated().allSatisfy { i, part in isWord(part, extra: parts.count == 3 && i == 0 ? ":" : nil) }
            guard valid else {
                throw CommandError.usage("'ollama:\(TextUtil.sanitize(text))' is not an Ollama model name: expected [host/][namespace/]model[:tag], e.g. ollama:qwen3:4b")
            }
            host = parts.count == 3 ? parts[0] : OllamaStore.defaultHost
            namespace = parts.count >= 2 ? parts[parts.count - 2] : OllamaStore.defaultNamespace
            model = parts[parts.count - 1]
            self.tag = tag
        }

        init(host: String, namespace: String, model: String, tag: String) {
            self.host = host; self.namespace = namespace; self.model = model; self.tag = tag
        }

        /// The shortest name that finds it again: `qwen3:4b`, `me/mine:latest`, `host/me/mine:q4`.
        public var description: String {
            var path = model
            if namespace != OllamaStore.defaultNamespace || host != OllamaStore.defaultHost { path = namespace + "/" + path }
            if host != OllamaStore.defaultHost { path = host + "/" + path }
            return path + ":" + tag
        }

        /// A session name for it (letters, digits, '-', '_', '.'): `qwen3-4b`, or `qwen3` for latest.
        public var sessionName: String {
            tag == OllamaStore.defaultTag ? model : model + "-" + tag
        }
    }

    /// One model in the store: its name, its GGUF blob and that blob's size.
    public struct Entry {
        public let reference: Reference
        public let blob: URL
        public let bytes: Int
    }

    public func manifestURL(_ r: Reference) -> URL {
        root.appendingPathComponent("manifests").appendingPathComponent(r.host)
            .appendingPathComponent(r.namespace).appendingPathComponent(r.model).appendingPathComponent(r.tag)
    }

    /// The GGUF blob the manifest's model layer names. Every failure is one line naming what is wrong.
    public func resolve(_ r: Reference) throws -> Entry {
        let fm = FileManager.default
        let manifest = manifestURL(r)
        guard fm.fileExists(atPath: manifest.path) else {
            let tags = (try? fm.contentsOfDirectory(atPath: manifest.deletingLastPathComponent().path))?
                .filter { !$0.hasPrefix(".") }.sorted() ?? []
            let here = tags.isEmpty ? "no model '\(r.model)' there" : "its tags there: " + tags.joined(separator: ", ")
            throw CommandError.state("ollama:\(r) is not in Ollama's store at \(root.path) (\(here)); 'models --ollama' lists what is")
        }
        let corrupt = { (why: String) in
            CommandError.failed("ollama:\(r): the manifest \(manifest.path) \(why)")
        }
        guard let data = try? Data(contentsOf: manifest) else { throw corrupt("can't be read") }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let layers = json["layers"] as? [[String: Any]] else {
            throw corrupt("is not JSON with a \"layers\" list")
        }
        guard let layer = layers.first(where: { $0["mediaType"] as? String == OllamaStore.modelMediaType }) else {
            throw corrupt("has no layer of media type \(OllamaStore.modelMediaType)")
        }
        guard let digest = layer["digest"] as? String, digest.hasPrefix("sha256:"),
              case let hex = digest.dropFirst(7), hex.count == 64,
              hex.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) else {
            throw corrupt("has a model layer whose digest is not sha256:<64 hex digits>")
        }
        let blob = root.appendingPathComponent("blobs").appendingPathComponent("sha256-" + hex)
        guard let attributes = try? fm.attributesOfItem(atPath: blob.path),
              let size = (attributes[.size] as? NSNumber)?.intValue else {
            throw CommandError.failed("ollama:\(r): the manifest names blob sha256-\(hex.prefix(12))…, which is missing from \(root.appendingPathComponent("blobs").path)")
        }
        if let declared = layer["size"] as? Int, declared != size {
            throw corrupt("says the model layer has \(declared) bytes but blob sha256-\(hex.prefix(12))… has \(size) (a partial download?)")
        }
        return Entry(reference: r, blob: blob, bytes: size)
    }

    /// Every manifest in the store with a readable model layer, sorted by name; the
    /// ones that can't be resolved come back as their error lines.
    public func list() -> (entries: [Entry], problems: [String]) {
        let fm = FileManager.default
        let manifests = root.appendingPathComponent("manifests")
        var entries: [Entry] = [], problems: [String] = []
        func children(_ url: URL) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: url.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        }
        for host in children(manifests) {
            for namespace in children(manifests.appendingPathComponent(host)) {
                for model in children(manifests.appendingPathComponent(host).appendingPathComponent(namespace)) {
                    let folder = manifests.appendingPathComponent(host).appendingPathComponent(namespace).appendingPathComponent(model)
                    for tag in children(folder) {
                        let r = Reference(host: host, namespace: namespace, model: model, tag: tag)
                        do { entries.append(try resolve(r)) } catch { problems.append("\(error)") }
                    }
                }
            }
        }
        return (entries.sorted { $0.reference.description < $1.reference.description }, problems)
    }
}
