import Foundation

// Speculative decoding: a cheap drafter proposes the next K tokens, the model we
// actually want (the verifier) scores all K in ONE batched forward pass — the
// prefill path, which reads every weight once for the whole batch — and keeps the
// longest prefix it agrees with, plus one token of its own. Both KV caches then roll
// back to what was kept. A round therefore yields between 1 and K + 1 tokens for one
// verifier pass, and the text is the verifier's own:
//
//   greedy    a draft token is kept when it is the verifier's argmax; the first
//             disagreement is replaced by that argmax — token for token what plain
//             greedy decoding writes.
//   sampling  Leviathan et al. / Chen et al.: keep draft token x (drawn from the
//             draft's q) with probability min(1, p(x)/q(x)); else draw from
//             normalise(max(0, p − q)). Every token is then distributed exactly as p.
//
// Greedy is the sampling rule with p and q point masses, so one rule serves both.

/// The acceptance rule, as a pure function of the two distributions.
public enum SpeculativeRule {
    /// Verifies one draft token `x` that was drawn from `q`, against the verifier's `p`.
    /// Returns whether it was kept and the token to emit (x, or the replacement).
    public static func verify(_ x: Int32, p: SparseDistribution, q: SparseDistribution,
                              uniform: () -> Float) -> (accepted: Bool, token: Int32) {
        let px = p.probability(of: x), qx = q.probability(of: x)
        let ratio = qx > 0 ? px / qx : 1
        // No draw when the answer is certain (ratio ≥ 1 or 0): greedy uses no randomness.
        if ratio >= 1 || (ratio > 0 && uniform() < ratio) { return (true, x) }
        let r = residual(p: p, q: q)
        return (false, r.draw(uniform: r.ids.count == 1 ? 0 : uniform()))
    }

    /// normalise(max(0, p − q)): where p has more mass than q. Rejections land here, and
    /// P(accept x) q(x) + P(reject) residual(x) = p(x) for every x.
    public static func residual(p: SparseDistribution, q: SparseDistribution) -> SparseDistribution {
        var ids: [Int32] = [], mass: [Float] = []
        for (id, pi) in zip(p.ids, p.probabilities) {
            let d = pi - q.probability(of: id)
            if d > 0 { ids.append(id); mass.append(d) }
        }
        let total = mass.reduce(0, +)
        guard total > 0 else { return p }   // p ≤ q everywhere only when p == q (rounding): nothing to prefer
        return SparseDistribution(ids: ids, probabilities: mass.map { $0 / total })
    }
}

/// Proposes tokens for the verifier to check.
public protocol Drafter: AnyObject {
    /// Forgets everything: a new text starts.
    func reset()
    /// Up to `count` tokens to follow `history` (prompt + text so far), each with the
    /// distribution it was drawn from (a point mass when it wasn't sampled).
    func propose(after history: [Int32], count: Int) throws -> [(token: Int32, q: SparseDistribution)]
    /// Only the first `length` tokens of the last history (+ proposals) still stand.
    func rollBack(to length: Int)
}

/// Drafts with a smaller model that shares the verifier's vocabulary, sampling with
/// the same settings as the verifier, so its q is the distribution it really drew from.
public final class ModelDrafter: Drafter {
    public let model: DecoderModel
    let sampler: Sampler

    public init(model: DecoderModel, sampler: Sampler) { self.model = model; self.sampler = sampler }

    public func reset() { model.reset() }

    public func propose(after history: [Int32], count: Int) throws -> [(token: Int32, q: SparseDistribution)] {
        // The cache holds a prefix of history (rolled back after each round); feed the rest in one batch.
        let start = min(model.position, history.count - 1)
        model.rewind(to: start)
        let room = model.cache.capacity - history.count + 1   // positions left for proposals after the catch-up
        let wanted = min(count, room)
        guard wanted > 0 else { return [] }
        var context = history
        var q = SparseDistribution.pointMass(0)
        try model.forward(Array(history[start...]), logitsFrom: history.count - 1 - start) { _, logits in
            q = sampler.distribution(logits, recent: context[...])
        }
        var out: [(token: Int32, q: SparseDistribution)] = []
        while true {
            let token = sampler.draw(from: q)
            out.append((token, q))
            context.append(token)
            let ends = model.tokenizer.endOfTurnIDs.contains(token) || token == model.tokenizer.eosID
            if out.count == wanted || ends { break }   // nothing follows an end of text
            try model.forward([token], logitsFrom: 0) { _, logits in q = sampler.distribution(logits, recent: context[...]) }
        }
        return out
    }

    public func rollBack(to length: Int) { model.rewind(to: length) }
}

/// Prompt-lookup drafting: no model at all. The longest n-gram (n ≤ maxN) that ends
/// the text and occurred earlier in it proposes what followed it back then. Free to
/// run, and good wherever the output repeats the prompt (quotes, code edits, lists).
public final class LookupDrafter: Drafter {
    public let maxN: Int
    public init(maxN: Int) { self.maxN = max(1, maxN) }
    public func reset() {}
    public func rollBack(to length: Int) {}

    public func propose(after history: [Int32], count: Int) throws -> [(token: Int32, q: SparseDistribution)] {
        LookupDrafter.lookup(history, maxN: maxN, count: count).map { ($0, .pointMass($0)) }
    }

    /// What followed the most recent earlier occurrence of the longest matching suffix.
    public static func lookup(_ h: [Int32], maxN: Int, count: Int) -> [Int32] {
        let L = h.count
        guard count > 0, L >= 2 else { return [] }
        for n in stride(from: min(maxN, L - 1), through: 1, by: -1) {
            // Occurrences starting at j with j + n < L (something follows them), latest first.
            var j = L - n - 1
            while j >= 0 {
                var match = true
                for i in 0..<n where h[j + i] != h[L - n + i] { match = false; break }
                if match { return Array(h[(j + n)..<min(L, j + n + count)]) }
                j -= 1
            }
        }
        return []
    }
}

/// How many tokens to draft a round.
public enum DraftLength: Sendable, Equatable {
    case fixed(Int)
    /// Starts at 4; grows by one after a round accepted in full (up to `max`), shrinks by
    /// one after a round rejected in its first half (down to 1): long rounds while the
    /// draft agrees, short ones while it doesn't.
    case adaptive(max: Int)
}

/// What one speculative run did, for the figures after it.
public struct SpeculativeStats: Sendable, Equatable, Codable {
    public var promptTokens = 0
    public var newTokens = 0
    /// Verifier passes after the prompt (each gives 1 … K + 1 tokens).
    public var rounds = 0
    public var drafted = 0
    public var accepted = 0
    /// Per draft position i (0-based): rounds that drafted a token there, and rounds that kept
    /// it (which needs every token before it kept too, so the rate falls with i).
    public var draftedAt: [Int] = []
    public var acceptedAt: [Int] = []
    public var prefillSeconds = 0.0
    /// After the prompt: all of it, and the drafter's share.
    public var decodeSeconds = 0.0
    public var draftSeconds = 0.0
    public var stopReason = GenerationStats.StopReason.length

    public var acceptanceRate: Double { drafted > 0 ? Double(accepted) / Double(drafted) : 0 }
    /// Draft tokens kept per round.
    public var meanAccepted: Double { rounds > 0 ? Double(accepted) / Double(rounds) : 0 }
    /// New tokens a second after the prompt (comparable with plain decoding's figure).
    public var tokensPerSecond: Double { decodeSeconds > 0 ? Double(newTokens) / decodeSeconds : 0 }
    /// The whole run, prompt included.
    public var totalSeconds: Double { prefillSeconds + decodeSeconds }
}

/// The speculative token loop. Output tokens are reported with whether they were a
/// kept draft token (`drafted`) or the verifier's own.
public final class SpeculativeDecoder {
    public let model: DecoderModel
    public let drafter: Drafter
    public let length: DraftLength

    public init(model: DecoderModel, drafter: Drafter, length: DraftLength = .fixed(4)) {
        self.model = model; self.drafter = drafter; self.length = length
    }

    /// Why `draft` can't draft for `verifier`, in one line, or nil when they share a vocabulary
    /// (the same size and the same token strings, id for id).
    public static func vocabularyMismatch(verifier: DecoderModel, verifierName: String,
                                          draft: DecoderModel, draftName: String) -> String? {
        let a = verifier.tokenizer, b = draft.tokenizer
        let na = max(a.vocabularySize, verifier.config.vocabulary), nb = max(b.vocabularySize, draft.config.vocabulary)
        if na != nb {
            return "\(draftName) can't draft for \(verifierName): its vocabulary has \(grouped(nb)) tokens, \(verifierName)'s \(grouped(na))"
        }
        let ta = (try? verifier.gguf.stringArray("tokenizer.ggml.tokens")) ?? (0..<a.vocabularySize).map { a.piece(Int32($0)) }
        let tb = (try? draft.gguf.stringArray("tokenizer.ggml.tokens")) ?? (0..<b.vocabularySize).map { b.piece(Int32($0)) }
        if let i = zip(ta, tb).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            return "\(draftName) can't draft for \(verifierName): token \(i) is \(quoted(tb[i])) there and \(quoted(ta[i])) here (a different vocabulary)"
        }
        return nil
    }

    static func grouped(_ n: Int) -> String {
        var s = String(n), out = ""
        while s.count > 3 { out = "," + s.suffix(3) + out; s.removeLast(3) }
        return s + out
    }

    static func quoted(_ s: String) -> String {
        "'" + String(s.unicodeScalars.map { $0.value < 32 ? "?" : Character($0) }.prefix(20)) + "'"
    }

    public func generate(prompt: [Int32], maxTokens: Int, sampler: Sampler,
                         shouldStop: () -> Bool = { false },
                         onToken: (_ id: Int32, _ text: String, _ drafted: Bool) -> Void) throws -> (ids: [Int32], stats: SpeculativeStats) {
        guard !prompt.isEmpty else { throw ModelError.badConfig("the prompt is empty") }
        let capacity = model.cache.capacity
        guard prompt.count <= capacity else { throw ModelError.promptTooLong(tokens: prompt.count, context: capacity) }
        var stats = SpeculativeStats()
        stats.promptTokens = prompt.count
        model.reset()
        drafter.reset()
        let tokenizer = model.tokenizer
        var decoder = UTF8StreamDecoder()
        var history = prompt
        var generated: [Int32] = []
        var k = { if case .fixed(let n) = length { return n } else { return 4 } }()
        var finished = maxTokens == 0
        /// Appends one token to the text (or stops at an end of text, the length or the context).
        func emit(_ token: Int32, drafted: Bool) {
            if tokenizer.endOfTurnIDs.contains(token) || token == tokenizer.eosID {
                stats.stopReason = .endOfText; finished = true; return
            }
            generated.append(token)
            history.append(token)
            onToken(token, decoder.append(tokenizer.isSpecial(token) ? Array(tokenizer.piece(token).utf8) : tokenizer.bytes(token)), drafted)
            if generated.count >= maxTokens { stats.stopReason = .length; finished = true }
            else if history.count - 1 >= capacity { stats.stopReason = .context; finished = true }
        }

        // The prompt exactly as plain decoding runs it (one prefill, the first token drawn from
        // its last logits). From then on the verifier's cache holds all of history but its last
        // token, which goes first into the next round's batch (its logits give draft 1's p).
        let start = Date()
        var first = SparseDistribution.pointMass(0)
        let completed = try model.forward(prompt, logitsFrom: prompt.count - 1, shouldStop: shouldStop) { _, logits in
            first = sampler.distribution(logits, recent: prompt[...])
        }
        stats.prefillSeconds = Date().timeIntervalSince(start)
        let decodeStart = Date()
        if !completed { stats.stopReason = .interrupted; finished = true }
        if !finished { emit(sampler.draw(from: first), drafted: false) }
        if !finished, shouldStop() { stats.stopReason = .interrupted; finished = true }
        // Verify passes compute every row as decoding one token would (see ComputeContext.decodeOrder).
        let decodeOrder = model.compute.decodeOrder
        model.compute.decodeOrder = true
        defer { model.compute.decodeOrder = decodeOrder }

        while !finished {
            let L = history.count
            // Never draft past what is wanted (the extra token counts) or what fits in the cache.
            let want = max(0, min(k, maxTokens - generated.count - 1, capacity - L))
            let draftStart = Date()
            let drafts = want > 0 ? Array(try drafter.propose(after: history, count: want).prefix(want)) : []
            stats.draftSeconds += Date().timeIntervalSince(draftStart)

            // One batched verifier pass over [last, d1 … dK]: K + 1 distributions p0 … pK,
            // p_i for the position after i draft tokens.
            let context = history + drafts.map(\.token)
            var p: [SparseDistribution] = []
            try model.forward([history[L - 1]] + drafts.map(\.token), logitsFrom: 0) { i, logits in
                p.append(sampler.distribution(logits, recent: context[0..<(L + i)]))
            }
            stats.rounds += 1
            stats.drafted += drafts.count
            while stats.draftedAt.count < drafts.count { stats.draftedAt.append(0); stats.acceptedAt.append(0) }
            for i in drafts.indices { stats.draftedAt[i] += 1 }

            // Keep the longest agreeing prefix, then one token of the verifier's own.
            var kept: [(token: Int32, drafted: Bool)] = []
            for (i, d) in drafts.enumerated() {
                let verdict = SpeculativeRule.verify(d.token, p: p[i], q: d.q, uniform: sampler.uniform)
                kept.append((verdict.token, verdict.accepted))
                if !verdict.accepted { break }
                stats.acceptedAt[i] += 1
            }
            let a = kept.filter(\.drafted).count
            if a == drafts.count { kept.append((sampler.draw(from: p[a]), false)) }   // all kept: a bonus token from p
            stats.accepted += a
            // Both caches roll back to history + the a kept drafts (the new last token is fed next round).
            model.rewind(to: L + a)
            drafter.rollBack(to: L + a)

            switch length {
            case .fixed: break
            case .adaptive(let maxK):
                if a == drafts.count, drafts.count == k { k = min(maxK, k + 1) } else if a < drafts.count / 2 { k = max(1, k - 1) }
            }

            for (token, drafted) in kept where !finished { emit(token, drafted: drafted) }
            if !finished, shouldStop() { stats.stopReason = .interrupted; finished = true }
        }
        let tail = decoder.flush()
        if !tail.isEmpty { onToken(-1, tail, false) }
        stats.newTokens = generated.count
        stats.decodeSeconds = Date().timeIntervalSince(decodeStart)
        return (generated, stats)
    }
}
