import Foundation
import LMEngine

/// `gen TEXT --draft MODEL [--draft-n K|auto]` and `gen TEXT --lookup N`: the current
/// model verifies what a draft model (or prompt lookup) proposes. Streams the text with
/// the kept draft tokens coloured apart, then runs plain decoding on the same prompt
/// for comparison and prints the figures: rounds, acceptance (overall and by draft
/// position), tokens/s with and without drafting, and the speed-up.
struct SpeculativeGen {
    struct Figures: Codable {
        var prompt: String
        var text: String
        var generated_ids: [Int32]
        var verifier: String
        var drafter: String
        var draft_n: String
        var new_tokens: Int
        var rounds: Int
        var drafted: Int
        var accepted: Int
        var acceptance_rate: Double
        var mean_accepted: Double
        var tokens_per_round: Double
        var acceptance_by_position: [Double]
        var tokens_per_s: Double
        var plain_tokens_per_s: Double
        var speedup: Double
        var draft_share: Double
        /// One verifier pass over a round's draft, in plain one-token decoding steps of the
        /// same run: what checking K tokens at once costs on this machine (0 when unknown).
        var verify_pass_in_plain_steps: Double
        /// Greedy only: whether the text equals plain greedy decoding's, token for token.
        var identical_to_plain: Bool?
        var stop_reason: String
    }

    /// The 256-colour for kept draft tokens.
    static let draftColor = 114

    let session: Session
    let args: Arguments

    func run(verifier: LoadedModel, prompt: String, ids: [Int32], sampling: SamplerSettings, maxTokens: Int) throws {
        let console = session.console
        let model = verifier.model
        if args.flag("probs") { throw CommandError.usage("--probs doesn't go with --draft or --lookup") }
        let length = try draftLength()
        let drafter: Drafter
        let drafterName: String
        switch (args.options["draft"], args.options["lookup"]) {
        case (.some, .some):
            throw CommandError.usage("choose --draft MODEL or --lookup N, not both")
        case (nil, .some):
            guard let n: Int = try args.number("lookup", in: 1...8) else { throw CommandError.usage("--lookup needs N, e.g. --lookup 3") }
            drafter = LookupDrafter(maxN: n)
            drafterName = "lookup (n-grams up to \(n))"
        case (.some(let name), nil):
            let draft = try draftModel(name, verifier: verifier)
            if let refusal = SpeculativeDecoder.vocabularyMismatch(verifier: model, verifierName: verifier.name,
                                                                   draft: draft.model, draftName: draft.name) {
                throw CommandError.usage(refusal)
            }
            var draftSampling = sampling
            draftSampling.seed = sampling.seed &+ 1   // its own random stream
            drafter = ModelDrafter(model: draft.model, sampler: Sampler(draftSampling))
            drafterName = draft.name
        case (nil, nil):
            throw CommandError.usage("--draft MODEL or --lookup N")
        }
        let json = args.json
        let greedy = sampling.temperature <= 0

        // The speculative run, streamed: kept draft tokens coloured, the verifier's own plain.
        var text = ""
        let decoder = SpeculativeDecoder(model: model, drafter: drafter, length: length)
        let result = try decoder.generate(prompt: ids, maxTokens: maxTokens, sampler: Sampler(sampling),
                                          shouldStop: { session.interrupt.isSet }) { _, piece, drafted in
            text += piece
            guard !json, !piece.isEmpty else { return }
            let shown = TextUtil.sanitize(piece, keepNewlines: true)
            console.write(drafted ? console.colored(shown, foreground: SpeculativeGen.draftColor) : shown)
        }
        if !json { console.line() }
        let stats = result.stats
        if stats.stopReason == .interrupted { throw CommandError.interrupted }

        // Plain decoding of the same prompt, same settings, in the same run: the baseline.
        let plain = try Generator(model: model).generate(prompt: ids, maxTokens: maxTokens, sampler: Sampler(sampling),
                                                         shouldStop: { session.interrupt.isSet }) { _, _ in }
        if plain.stats.stopReason == .interrupted { throw CommandError.interrupted }
        let plainSeconds = plain.stats.prefillSeconds + plain.stats.decodeSeconds
        let plainRate = plainSeconds > 0 ? Double(plain.stats.newTokens) / plainSeconds : 0
        let rate = stats.totalSeconds > 0 ? Double(stats.newTokens) / stats.totalSeconds : 0
        let byPosition = zip(stats.acceptedAt, stats.draftedAt).map { $1 > 0 ? Double($0) / Double($1) : 0 }
        let figures = Figures(
            prompt: prompt, text: text, generated_ids: result.ids, verifier: verifier.name, drafter: drafterName,
            draft_n: lengthName(length), new_tokens: stats.newTokens, rounds: stats.rounds, drafted: stats.drafted,
            accepted: stats.accepted, acceptance_rate: stats.acceptanceRate, mean_accepted: stats.meanAccepted,
            tokens_per_round: stats.rounds > 0 ? Double(stats.newTokens) / Double(stats.rounds) : 0,
            acceptance_by_position: byPosition, tokens_per_s: rate, plain_tokens_per_s: plainRate,
            speedup: plainRate > 0 ? rate / plainRate : 0,
            draft_share: stats.decodeSeconds > 0 ? stats.draftSeconds / stats.decodeSeconds : 0,
            verify_pass_in_plain_steps: stats.rounds > 0 && plain.stats.decodeTokensPerSecond > 0
                ? (stats.decodeSeconds - stats.draftSeconds) / Double(stats.rounds) * plain.stats.decodeTokensPerSecond : 0,
            identical_to_plain: greedy ? result.ids == plain.ids : nil, stop_reason: stats.stopReason.rawValue)
        record(figures)
        if json {
            console.line(try JSONText.encode(figures))
        } else {
            console.line(report(figures, stats: stats))
        }
    }

    /// `--draft-n K` (1…16) or `auto`; 4 by default.
    func draftLength() throws -> DraftLength {
        guard let raw = args.options["draft-n"] else { return .fixed(4) }
        if raw == "auto" { return .adaptive(max: 16) }
        guard let k = Int(raw), (1...16).contains(k) else {
            throw CommandError.usage("--draft-n is a number of tokens from 1 to 16, or auto, not '\(TextUtil.sanitize(raw))'")
        }
        return .fixed(k)
    }

    func lengthName(_ l: DraftLength) -> String {
        switch l {
        case .fixed(let k): return "\(k)"
        case .adaptive: return "auto"
        }
    }

    /// A loaded model by name, else loaded from a file for this run. The current model
    /// drafting for itself gets a copy of its own (its own KV cache; the weights are mapped once).
    func draftModel(_ word: String, verifier: LoadedModel) throws -> (name: String, model: DecoderModel) {
        if let loaded = session.models[word], loaded !== verifier { return (loaded.name, loaded.model) }
        let (name, url) = try ModelLocator.resolve(session.models[word]?.url.path ?? word, home: session.home)
        do {
            return (session.models[word]?.name ?? name,
                    try ModelLoader.load(url: url, contextLength: verifier.model.cache.capacity, threads: session.settings.int("threads")))
        } catch let e as CustomStringConvertible where e is Error {
            throw CommandError.failed("can't load the draft '\(TextUtil.sanitize(url.lastPathComponent))': \(e.description)")
        }
    }

    /// The figures lessons check with `expect:`.
    func record(_ f: Figures) {
        session.figures["new_tokens"] = Double(f.new_tokens)
        session.figures["rounds"] = Double(f.rounds)
        session.figures["drafted"] = Double(f.drafted)
        session.figures["accepted"] = Double(f.accepted)
        session.figures["acceptance"] = f.acceptance_rate
        session.figures["mean_accepted"] = f.mean_accepted
        session.figures["tokens_per_round"] = f.tokens_per_round
        session.figures["spec_tps"] = f.tokens_per_s
        session.figures["plain_tps"] = f.plain_tokens_per_s
        session.figures["speedup"] = f.speedup
        session.figures["draft_share"] = f.draft_share
        session.figures["verify_pass_in_plain_steps"] = f.verify_pass_in_plain_steps
        session.figures["acceptance_first"] = f.acceptance_by_position.first ?? 0
        session.figures["acceptance_last"] = f.acceptance_by_position.last ?? 0
        if let same = f.identical_to_plain { session.figures["identical"] = same ? 1 : 0 }
    }

    func report(_ f: Figures, stats: SpeculativeStats) -> String {
        let console = session.console
        var lines: [String] = []
        let legend = console.useColor ? " · " + console.colored("kept draft tokens", foreground: SpeculativeGen.draftColor) + ", the verifier's own plain" : ""
        lines.append(console.styled("speculative decoding: \(f.drafter) drafts \(f.draft_n == "auto" ? "an adaptive number of" : f.draft_n) tokens a round, \(f.verifier) verifies", .bold) + legend)
        lines.append(String(format: "  %d rounds · %d drafted · %d accepted (%.0f%%) · %.2f accepted a round · %.2f tokens a round",
                            f.rounds, f.drafted, f.accepted, f.acceptance_rate * 100, f.mean_accepted, f.tokens_per_round))
        if !f.acceptance_by_position.isEmpty {
            lines.append("  acceptance by draft position (rounds that kept the token there / rounds that drafted it):")
            // Bars against 100%, so positions compare with each other and across runs.
            for (i, rate) in f.acceptance_by_position.enumerated() {
                let b = Charts.bar(rate, max: 1, width: 30)
                lines.append(String(format: "  %4d  ", i + 1) + console.styled(b, .cyan)
                             + String(repeating: " ", count: max(0, 30 - TextUtil.displayWidth(b))) + String(format: " %3.0f%%", rate * 100))
            }
        }
        lines.append(String(format: "  %.1f tokens/s with drafting, %.1f without (plain decoding of the same prompt, this run) → %.2f× %@",
                            f.tokens_per_s, f.plain_tokens_per_s, f.speedup, f.speedup >= 1 ? "speed-up" : "(a slow-down)"))
        lines.append(String(format: "  the drafter took %.0f%% of the time after the prompt", f.draft_share * 100)
                     + (f.verify_pass_in_plain_steps > 0
                        ? String(format: "; a verifier pass cost %.1f plain one-token steps", f.verify_pass_in_plain_steps) : ""))
        if let same = f.identical_to_plain {
            lines.append(same ? "  identical to plain greedy decoding, token for token"
                              : console.styled("  differs from plain greedy decoding", .red))
        } else {
            lines.append("  sampled: each token follows the verifier's distribution (the rejection rule); the plain run drew its own text")
        }
        return lines.joined(separator: "\n")
    }
}
