import Foundation
import LMEngine

/// Asks every tier every item (or takes the answer from the cache) and builds
/// the item records the routers are replayed on.
public struct CascadeRunner {
    /// A tier ready to answer: its profile and what answers for it (a local model or an API).
    public struct Rung {
        public let tier: Tier
        public let answerer: TierAnswerer
        public init(tier: Tier, answerer: TierAnswerer) { self.tier = tier; self.answerer = answerer }
        public init(tier: Tier, model: DecoderModel, cacheKey: String) {
            self.init(tier: tier, answerer: LocalTierAnswerer(model: model, cacheKey: cacheKey))
        }
    }

    public struct Result {
        public var records: [ItemRecord]
        /// Answers computed now and answers taken from the cache.
        public var computed = 0
        public var cached = 0
        /// Passes where a tier could not take the query (checked every run, never cached:
        /// it depends on the context the model was loaded with).
        public var skipped = 0
        /// API calls that failed (each also counts in `skipped`: the item went on without that tier's answer).
        public var failed = 0
        /// True when Ctrl-C stopped it before the last item.
        public var stopped = false
    }

    public let rungs: [Rung]
    public let cache: AnswerCache?

    public init(rungs: [Rung], cache: AnswerCache?) { self.rungs = rungs; self.cache = cache }

    /// `progress(done, total)` is called after each answer; `shouldStop` between answers;
    /// `failure(tier, item, reason)` once for each API call that failed, as it happens.
    public func run(_ items: [WorkloadItem], shouldStop: @escaping () -> Bool = { false },
                    progress: (Int, Int) -> Void = { _, _ in },
                    failure: (Tier, WorkloadItem, SkipReason) -> Void = { _, _, _ in }) throws -> Result {
        var result = Result(records: [])
        let total = items.count * rungs.count
        var done = 0
        itemLoop: for item in items {
            var answers: [TierAnswer] = []
            for rung in rungs {
                let checkStart = Date()
                let key = rung.answerer.cacheKey
                if let reason = rung.answerer.refusal(item) {
                    answers.append(.skipped(reason, seconds: Date().timeIntervalSince(checkStart)))
                    result.skipped += 1
                } else if let key, let hit = cache?.answer(model: key, item: item) {
                    answers.append(hit)
                    result.cached += 1
                } else {
                    if shouldStop() { result.stopped = true; break itemLoop }
                    let answer: TierAnswer
                    do {
                        answer = try rung.answerer.answer(item, shouldStop: shouldStop)
                    } catch CommandError.interrupted {
                        result.stopped = true; break itemLoop
                    }
                    if let reason = answer.skipped {
                        // A failed call is not an answer: never cached, so the next run asks again.
                        result.failed += 1
                        result.skipped += 1
                        failure(rung.tier, item, reason)
                    } else {
                        if let key { cache?.store(answer, model: key, item: item) }
                        result.computed += 1
                    }
                    answers.append(answer)
                }
                done += 1
                progress(done, total)
            }
            result.records.append(ItemRecord(item: item, answers: answers, tiers: rungs.map(\.tier)))
        }
        return result
    }
}
