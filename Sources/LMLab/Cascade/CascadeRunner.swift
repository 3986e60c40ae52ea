import Foundation
import LMEngine

/// Asks every tier every item (or takes the answer from the cache) and builds
/// the item records the routers are replayed on.
public struct CascadeRunner {
    /// A tier ready to answer: its profile, the model, and the cache key of that model.
    public struct Rung {
        public let tier: Tier
        public let model: DecoderModel
        public let cacheKey: String
        public init(tier: Tier, model: DecoderModel, cacheKey: String) { self.tier = tier; self.model = model; self.cacheKey = cacheKey }
    }

    public struct Result {
        public var records: [ItemRecord]
        /// Answers computed now and answers taken from the cache.
        public var computed = 0
        public var cached = 0
        /// Passes where a tier could not take the query (checked every run, never cached:
        /// it depends on the context the model was loaded with).
        public var skipped = 0
        /// True when Ctrl-C stopped it before the last item.
        public var stopped = false
    }

    public let rungs: [Rung]
    public let cache: AnswerCache?

    public init(rungs: [Rung], cache: AnswerCache?) { self.rungs = rungs; self.cache = cache }

    /// `progress(done, total)` is called after each answer; `shouldStop` between answers.
    public func run(_ items: [WorkloadItem], shouldStop: () -> Bool = { false },
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        var result = Result(records: [])
        let total = items.count * rungs.count
        var done = 0
        itemLoop: for item in items {
            var answers: [TierAnswer] = []
            for rung in rungs {
                let checkStart = Date()
                if case let .failure(reason) = ModelAnswerer.prepare(item, model: rung.model) {
                    answers.append(.skipped(reason, seconds: Date().timeIntervalSince(checkStart)))
                    result.skipped += 1
                } else if let hit = cache?.answer(model: rung.cacheKey, item: item) {
                    answers.append(hit)
                    result.cached += 1
                } else {
                    if shouldStop() { result.stopped = true; break itemLoop }
                    let answer: TierAnswer
                    do {
                        answer = try ModelAnswerer.answer(item, model: rung.model, shouldStop: shouldStop)
                    } catch CommandError.interrupted {
                        result.stopped = true; break itemLoop
                    }
                    cache?.store(answer, model: rung.cacheKey, item: item)
                    answers.append(answer)
                    result.computed += 1
                }
                done += 1
                progress(done, total)
            }
            result.records.append(ItemRecord(item: item, answers: answers, tiers: rungs.map(\.tier)))
        }
        return result
    }
}
