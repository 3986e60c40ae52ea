import Foundation
import LMEngine

/// `gen TEXT`: continue the text, streaming tokens as they come, then a stats line.
struct GenCommand: Command {
    let name = "gen"
    let aliases = ["generate"]
    let topic = Topic.generate
    let summary = "continue a text with the loaded model (streams; Ctrl-C stops)"
    let usage = "gen TEXT [--max N] [--temp T] [--seed S] [--probs] [--json] [--draft MODEL [--draft-n K|auto] | --lookup N]"
    let examples = ["gen Once upon a time", "gen \"The capital of France is\" --temp 0 --max 8", "gen hello --json", "gen \"The capital of France is\" --probs",
                    "gen Once upon a time --temp 0 --draft tiny-smol", "gen \"one, two, three, one, two,\" --temp 0 --lookup 3"]
    let flags = [
        Arguments.Flag("max", value: "N", "new tokens at most (default: the max_tokens setting)"),
        Arguments.Flag("temp", value: "T", "temperature for this run; 0 = greedy"),
        Arguments.Flag("seed", value: "S", "random seed for this run"),
        Arguments.Flag("probs", "show how likely the model found each token (colour on a terminal, token(p=0.42) off one)"),
        Arguments.Flag.json("(ids, text, figures) instead of streaming"),
        Arguments.Flag("draft", value: "MODEL", "speculative decoding: MODEL (same vocabulary) drafts, the current model verifies"),
        Arguments.Flag("draft-n", value: "K", "tokens drafted a round (default 4; auto adapts it)"),
        Arguments.Flag("lookup", value: "N", "speculative decoding drafting from n-grams (≤ N) of the text so far, no draft model"),
    ]

    struct JSONOutput: Codable {
        var prompt: String
        var prompt_ids: [Int32]
        var generated_ids: [Int32]
        var text: String
        var prompt_tokens: Int
        var new_tokens: Int
        var time_to_first_token_s: Double
        var prefill_tokens_per_s: Double
        var decode_tokens_per_s: Double
        var stop_reason: String
        /// With --probs: each generated token's probability under the model (T = 1).
        var probabilities: [Float]?
    }

    func run(_ args: Arguments, session: Session) throws {
        if let api = session.models.currentAPI { return try APIGen.run(args, api: api, session: session) }
        let loaded = try session.requireModel()
        let prompt = args.text
        guard !prompt.isEmpty else { throw CommandError.usage("gen needs a text to continue, e.g. gen Once upon a time") }
        var sampling = session.samplerSettings
        if let t: Double = try args.number("temp", in: 0...5) { sampling.temperature = Float(t) }
        if let s: Int = try args.number("seed", in: 0...Int(UInt32.max)) { sampling.seed = UInt64(s) }
        let maxTokens: Int = try args.number("max", in: 0...1_000_000) ?? session.settings.int("max_tokens")
        let model = loaded.model
        let ids = model.tokenizer.encode(prompt, addBOS: model.tokenizer.addsBOS, parseSpecial: true)
        try GenCommand.checkFits(ids.count, model: model)
        loaded.forgetConversation()
        if args.options["draft"] != nil || args.options["lookup"] != nil {
            return try SpeculativeGen(session: session, args: args)
                .run(verifier: loaded, prompt: prompt, ids: ids, sampling: sampling, maxTokens: maxTokens)
        }
        if args.options["draft-n"] != nil { throw CommandError.usage("--draft-n goes with --draft MODEL") }
        let json = args.json
        let console = session.console
        var text = ""
        let generator = Generator(model: model)
        let probs = args.flag("probs")
        var probabilities: [Float] = []
        // A character split over several byte tokens shows once, with their joint probability.
        var pending: Float = 1
        if probs { generator.onProbability = { _, p in probabilities.append(p); pending *= p } }
        let result = try generator.generate(
            prompt: ids, maxTokens: maxTokens, sampler: Sampler(sampling),
            shouldStop: { session.interrupt.isSet }
        ) { _, piece in
            text += piece
            guard !json, !piece.isEmpty else { return }
            let shown = TextUtil.sanitize(piece, keepNewlines: true)
            if probs {
                console.write(GenCommand.withProbability(shown, pending, console: console))
                pending = 1
            } else {
                console.write(shown)
            }
        }
        let stats = result.stats
        session.figures["prompt_tokens"] = Double(stats.promptTokens)
        session.figures["new_tokens"] = Double(stats.newTokens)
        session.figures["ttft_ms"] = stats.timeToFirstToken * 1000
        session.figures["prefill_tps"] = stats.prefillTokensPerSecond
        session.figures["decode_tps"] = stats.decodeTokensPerSecond
        session.figures["output_hash"] = GenCommand.hash(result.ids)
        session.figures["text_hash"] = GenCommand.hash(text: text)
        session.figures["repeated_trigram_pct"] = GenCommand.repeatedTrigramShare(result.ids) * 100
        if probs, let lowest = probabilities.min() {
            session.figures["lowest_probability"] = Double(lowest)
            session.figures["unsure_tokens"] = Double(probabilities.filter { $0 < 0.5 }.count)
        }
        if json {
            let s = result.stats
            let out = JSONOutput(prompt: prompt, prompt_ids: ids, generated_ids: result.ids, text: text,
                                 prompt_tokens: s.promptTokens, new_tokens: s.newTokens,
                                 time_to_first_token_s: s.timeToFirstToken, prefill_tokens_per_s: s.prefillTokensPerSecond,
                                 decode_tokens_per_s: s.decodeTokensPerSecond, stop_reason: s.stopReason.rawValue,
                                 probabilities: probs ? probabilities : nil)
            console.line(try JSONText.encode(out))
        } else {
            console.line()
            if probs { console.line(GenCommand.probabilityLegend(console: console)) }
            console.line(console.styled(GenCommand.statsLine(result.stats), .dim))
        }
    }

    /// A token marked with its probability: coloured red (unlikely) → yellow → green (sure)
    /// on a terminal, `token(p=0.42)` where there is no colour.
    static func withProbability(_ piece: String, _ p: Float, console: Console) -> String {
        guard console.useColor else {
            // The tag goes before trailing newlines, so it stays on the token's own line.
            let body = piece.trimmingCharacters(in: .newlines).isEmpty ? "↵" : String(piece.reversed().drop { $0 == "\n" }.reversed())
            return body + String(format: "(p=%.2f)", p) + String(repeating: "\n", count: piece.reversed().prefix { $0 == "\n" }.count)
        }
        let ramp = [196, 202, 208, 214, 220, 226, 190, 154, 118, 82, 46]   // 256-colour red → green
        return console.colored(piece, foreground: ramp[min(ramp.count - 1, max(0, Int((p * 10).rounded())))])
    }

    /// What the colours (or the `(p=…)` tags) mean, printed under a `--probs` answer.
    static func probabilityLegend(console: Console) -> String {
        guard console.useColor else { return "probability: (p=…) after each token is how likely the model found it" }
        let swatches = stride(from: 0, through: 10, by: 2).map { tenth -> String in
            withProbability(String(format: "%.1f", Double(tenth) / 10), Float(tenth) / 10, console: console)
        }
        return "probability: " + swatches.joined(separator: " ") + " (red: the model was guessing · green: it was sure)"
    }

    /// FNV-1a over the token ids, cut to 48 bits so it is exact as a figure (a Double):
    /// two runs wrote the same tokens exactly when their hashes are equal (barring a
    /// collision), which is how lesson 5 checks that a seed repeats a sampled text.
    /// The generated text's hash, the same for a local model and an API one (which gives text, not ids):
    /// lesson 9 checks with it that a served model writes what the one in process wrote.
    static func hash(text: String) -> Double {
        hash(text.utf8.map { Int32($0) })
    }

    static func hash(_ ids: [Int32]) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for id in ids {
            for byte in withUnsafeBytes(of: id.littleEndian, Array.init) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        return Double(h & 0xFFFF_FFFF_FFFF)
    }

    /// The share of the text's token trigrams that already occurred earlier in it: 0 for
    /// text that never repeats itself, near 1 for a loop. (0 when there are under 4 tokens.)
    static func repeatedTrigramShare(_ ids: [Int32]) -> Double {
        guard ids.count >= 4 else { return 0 }
        var seen = Set<[Int32]>(), repeated = 0
        for i in 0...(ids.count - 3) {
            if !seen.insert(Array(ids[i..<(i + 3)])).inserted { repeated += 1 }
        }
        return Double(repeated) / Double(ids.count - 2)
    }

    static func checkFits(_ count: Int, model: DecoderModel) throws {
        if count >= model.cache.capacity {
            throw CommandError.usage(ErrorLine.text(for: ModelError.promptTooLong(tokens: count, context: model.cache.capacity)))
        }
    }

    static func statsLine(_ s: GenerationStats) -> String {
        String(format: "— %d prompt tokens, %d new · first token %.0f ms · prefill %.0f tok/s · decode %.1f tok/s · stopped: %@",
               s.promptTokens, s.newTokens, s.timeToFirstToken * 1000, s.prefillTokensPerSecond,
               s.decodeTokensPerSecond, s.stopReason.rawValue)
    }
}

/// JSON for `--json` output: keys sorted, so the output is stable for scripts and tests.
enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
