import Foundation
import LMEngine

/// What the cascade asks of a tier's model, local or API: can it take this item,
/// what does it answer, and under which key may its answers be cached.
/// The runner asks only this, so it never branches on where a model runs.
public protocol TierAnswerer {
    /// Why the tier can't take the item at all (checked every run, never cached), or nil.
    func refusal(_ item: WorkloadItem) -> SkipReason?
    /// The answer and its confidence figures. A failure the run should survive comes back
    /// as a skipped answer (SkipReason.Kind.failed); only Ctrl-C throws.
    func answer(_ item: WorkloadItem, shouldStop: @escaping () -> Bool) throws -> TierAnswer
    /// The key answers are cached under; nil: never cached (figures measured each run).
    var cacheKey: String? { get }
}

/// A model whose weights are here: ModelAnswerer's greedy decode or choice scoring.
public struct LocalTierAnswerer: TierAnswerer {
    public let model: DecoderModel
    public let cacheKey: String?

    public init(model: DecoderModel, cacheKey: String) { self.model = model; self.cacheKey = cacheKey }

    public func refusal(_ item: WorkloadItem) -> SkipReason? {
        if case let .failure(reason) = ModelAnswerer.prepare(item, model: model) { return reason }
        return nil
    }

    public func answer(_ item: WorkloadItem, shouldStop: @escaping () -> Bool) throws -> TierAnswer {
        try ModelAnswerer.answer(item, model: model, shouldStop: shouldStop)
    }
}
