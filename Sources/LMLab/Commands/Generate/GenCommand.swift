import Foundation
import LMEngine

/// `gen TEXT`: continue the text, streaming tokens as they come, then a stats line.
struct GenCommand: Command {
    let name = "gen"
    let aliases = ["generate"]
    let topic = Topic.generate
    let summary = "continue a text with the loaded model (streams; Ctrl-C stops)"
    let usage = "gen TEXT [--max N] [--temp T] [--seed S] [--json]"
    let examples = ["gen Once upon a time", "gen \"The capital of France is\" --temp 0 --max 8", "gen hello --json"]
    let flags = [
        Arguments.Flag("max", value: "N", "new tokens at most (default: the max_tokens setting)"),
        Arguments.Flag("temp", value: "T", "temperature for this run; 0 = greedy"),
        Arguments.Flag("seed", value: "S", "random seed for this run"),
        Arguments.Flag("json", "print one JSON object (ids, text, figures) instead of streaming"),
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
    }

    func run(_ args: Arguments, session: Session) throws {
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
        loaded.conversation = []; loaded.conversationTokens = []
        let json = args.flag("json")
        let console = session.console
        var text = ""
        let result = try Generator(model: model).generate(
            prompt: ids, maxTokens: maxTokens, sampler: Sampler(sampling),
            shouldStop: { session.interrupt.isSet }
        ) { _, piece in
            text += piece
            if !json { console.write(TextUtil.sanitize(piece, keepNewlines: true)) }
        }
        if json {
            let s = result.stats
            let out = JSONOutput(prompt: prompt, prompt_ids: ids, generated_ids: result.ids, text: text,
                                 prompt_tokens: s.promptTokens, new_tokens: s.newTokens,
                                 time_to_first_token_s: s.timeToFirstToken, prefill_tokens_per_s: s.prefillTokensPerSecond,
                                 decode_tokens_per_s: s.decodeTokensPerSecond, stop_reason: s.stopReason.rawValue)
            console.line(try JSONText.encode(out))
        } else {
            console.line()
            console.line(console.styled(GenCommand.statsLine(result.stats), .dim))
        }
    }

    static func checkFits(_ count: Int, model: DecoderModel) throws {
        if count >= model.cache.capacity {
            throw CommandError.usage(ModelError.promptTooLong(tokens: count, context: model.cache.capacity).description)
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
