import Foundation
import LMEngine

/// The models a session holds at once, each under the name it was loaded as
/// (`load gemma3 as big`), and which one is current: the model every
/// single-model command (`gen`, `next`, `quant`, …) runs on.
public final class LoadedModels {
    /// In load order.
    public private(set) var all: [LoadedModel] = []
    /// The name of the current model (nil when none is loaded).
    public private(set) var currentName: String?

    public init() {}

    public var current: LoadedModel? { currentName.flatMap { self[$0] } }
    public var names: [String] { all.map(\.name) }
    public var isEmpty: Bool { all.isEmpty }

    public subscript(name: String) -> LoadedModel? { all.first { $0.name == name } }

    /// Adds a model (replacing one of the same name, which is released) and makes it current.
    public func add(_ model: LoadedModel) {
        if let i = all.firstIndex(where: { $0.name == model.name }) {
            all[i] = model
        } else {
            all.append(model)
        }
        currentName = model.name
    }

    /// Makes `name` current; false when no model has that name.
    @discardableResult
    public func use(_ name: String) -> Bool {
        guard self[name] != nil else { return false }
        currentName = name
        return true
    }

    /// Releases a model. When it was current, the most recently loaded one left becomes current.
    @discardableResult
    public func remove(_ name: String) -> LoadedModel? {
        guard let i = all.firstIndex(where: { $0.name == name }) else { return nil }
        let removed = all.remove(at: i)
        if currentName == name { currentName = all.last?.name }
        return removed
    }

    /// The model named `name`, or a one-line error listing the loaded ones.
    public func require(_ name: String) throws -> LoadedModel {
        if let m = self[name] { return m }
        if all.isEmpty { throw CommandError.state("no model loaded — try 'load smollm2' (or 'load PATH.gguf')") }
        let hint = Suggest.closest(to: name, in: names).map { " — did you mean '\($0)'?" } ?? ""
        throw CommandError.usage("no loaded model named '\(TextUtil.sanitize(name))'\(hint); loaded: "
                                 + names.joined(separator: ", "))
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
        if let m = model {
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
