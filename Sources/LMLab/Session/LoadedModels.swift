import Foundation
import LMEngine

/// The models a session holds at once, each under the name it was loaded as
/// (`load gemma3 as big`), and which one is current: the model every
/// single-model command (`gen`, `next`, `quant`, …) runs on.
public final class LoadedModels {
    /// Local models (weights mapped here), in load order.
    public private(set) var all: [LoadedModel] = []
    /// Models reached over an API (`load api:…`), in load order. A name is either local or API, never both.
    public private(set) var remote: [APIModel] = []
    /// The name of the current model, local or API (nil when none is loaded).
    public private(set) var currentName: String?

    public init() {}

    /// The current model when it is local (nil when it is an API model).
    public var current: LoadedModel? { currentName.flatMap { self[$0] } }
    /// The current model when it is an API model.
    public var currentAPI: APIModel? { currentName.flatMap { api($0) } }
    /// Every loaded name, local then API.
    public var names: [String] { all.map(\.name) + remote.map(\.name) }
    public var isEmpty: Bool { all.isEmpty && remote.isEmpty }

    public subscript(name: String) -> LoadedModel? { all.first { $0.name == name } }
    public func api(_ name: String) -> APIModel? { remote.first { $0.name == name } }

    /// Adds a model (replacing one of the same name, which is released) and makes it current.
    public func add(_ model: LoadedModel) {
        remote.removeAll { $0.name == model.name }
        Self.replaceOrAppend(model, in: &all, name: \.name)
        currentName = model.name
    }

    /// Adds an API model (replacing any model of the same name) and makes it current.
    public func add(_ model: APIModel) {
        all.removeAll { $0.name == model.name }
        Self.replaceOrAppend(model, in: &remote, name: \.name)
        currentName = model.name
    }

    /// Puts `model` in the place of the one of the same name in `list`, or at its end.
    private static func replaceOrAppend<M>(_ model: M, in list: inout [M], name: KeyPath<M, String>) {
        if let i = list.firstIndex(where: { $0[keyPath: name] == model[keyPath: name] }) {
            list[i] = model
        } else {
            list.append(model)
        }
    }

    /// Makes `name` current; false when no model has that name.
    @discardableResult
    public func use(_ name: String) -> Bool {
        guard self[name] != nil || api(name) != nil else { return false }
        currentName = name
        return true
    }

    /// Releases a model, local or API. When it was current, the most recently loaded local one left
    /// (else API one) becomes current. Returns the local model removed, if it was local.
    @discardableResult
    public func remove(_ name: String) -> LoadedModel? {
        var removed: LoadedModel?
        if let i = all.firstIndex(where: { $0.name == name }) { removed = all.remove(at: i) }
        remote.removeAll { $0.name == name }
        if currentName == name { currentName = all.last?.name ?? remote.last?.name }
        return removed
    }

    /// The local model named `name`, or a one-line error listing the loaded ones
    /// (or saying that the name is an API model, which has no weights here).
    public func require(_ name: String) throws -> LoadedModel {
        if let m = self[name] { return m }
        if let a = api(name) { throw LoadedModels.needsWeights(a) }
        if isEmpty { throw CommandError.state("no model loaded — try 'load smollm2' (or 'load PATH.gguf')") }
        let hint = Suggest.closest(to: name, in: names).map { " — did you mean '\($0)'?" } ?? ""
        throw CommandError.usage("no loaded model named '\(TextUtil.sanitize(name))'\(hint); loaded: "
                                 + names.joined(separator: ", "))
    }

    /// The one line for a command that needs weights, run on an API model.
    static func needsWeights(_ a: APIModel) -> CommandError {
        CommandError.state("\(a.name) is an API model (\(a.endpoint.display)): this needs a local model's weights — "
                           + "'use NAME' switches to a local one (gen, chat, next, compare models and cascade work with API models)")
    }
}

extension Session {
    /// The current model (nil until `load`). Setting a model adds it under its
    /// name and makes it current; setting nil unloads the current one.
    /// Commands written for one model keep using this and `requireModel()`.
    public var model: LoadedModel? {
        get { models.current }
        set {
            if let newValue {
                models.add(newValue)
            } else if let name = models.currentName {
                models.remove(name)
            }
        }
    }

    /// Makes the named model current and applies its settings (e.g. its max_tokens).
    func switchModel(to name: String) throws {
        let m = try models.require(name)
        models.use(m.name)
        adoptModelDefaults()
    }

    /// The settings the current model brings (its context bounds max_tokens); none without a model.
    func adoptModelDefaults() {
        if let m = model, models.currentAPI == nil {
            settings.setModelDefaults(["max_tokens": String(min(256, m.model.cache.capacity))])
        } else {
            settings.setModelDefaults([:])
        }
        applySettings()
    }
}

/// What one loaded model takes in memory now, as `models --loaded` shows it.
public struct ModelMemory: Equatable, Sendable {
    /// The file's tensors, mapped (the system pages them in as they are used).
    public var fileWeights: Int
    /// Weights `quant` re-quantized, and the f32 reference `kld` builds, held in memory.
    public var extraWeights: Int
    /// KV cache filled so far, and reserved for the whole context.
    public var kvCacheUsed: Int
    public var kvCacheReserved: Int
    public var buffers: Int

    /// Mapped weights + extra weights + the KV cache in use + buffers.
    public var total: Int { fileWeights + extraWeights + kvCacheUsed + buffers }
}

extension LoadedModel {
    public var memory: ModelMemory {
        let m = model
        var extra = 0
        if weightSet != nil { extra += m.weightBytes }
        if referenceSet != nil { extra += m.weightCount * MemoryLayout<Float>.size }
        let buffers = (try? MemoryNeed(gguf: m.gguf, contextLength: m.cache.capacity).buffers) ?? 0
        return ModelMemory(fileWeights: m.gguf.fileSize, extraWeights: extra,
                           kvCacheUsed: m.cache.count * m.cache.bytesPerToken,
                           kvCacheReserved: m.cache.capacity * m.cache.bytesPerToken, buffers: buffers)
    }
}
