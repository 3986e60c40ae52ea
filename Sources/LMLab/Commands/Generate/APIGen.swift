import Foundation

/// `gen TEXT` on an API model: the text streams over server-sent events, and the
/// figures printed after it are measured here, on the client's side of the network:
/// the round trip of a ping, the time to the first token, the rate after it, and the
/// token counts the server reported in `usage`.
enum APIGen {
    struct JSONOutput: Codable {
        var prompt: String
        var text: String
        var prompt_tokens: Int?
        var new_tokens: Int?
        var round_trip_s: Double
        var time_to_first_token_s: Double?
        var decode_tokens_per_s: Double?
        var total_s: Double
        var stop_reason: String
        var model: String
    }

    static func run(_ args: Arguments, api: APIModel, session: Session) throws {
        for local in ["probs", "draft", "draft-n", "lookup"] where args.options[local] != nil || args.flag(local) {
            throw CommandError.usage("--\(local) needs a local model's logits; \(api.name) is an API model")
        }
        let prompt = args.text
        guard !prompt.isEmpty else { throw CommandError.usage("gen needs a text to continue, e.g. gen Once upon a time") }
        let temperature: Double = try args.number("temp", in: 0...2) ?? min(2, session.settings.double("temperature"))
        let seed: Int? = try args.number("seed", in: 0...Int(UInt32.max)) ?? session.settings.int("seed")
        let maxTokens: Int = try args.number("max", in: 0...1_000_000) ?? session.settings.int("max_tokens")
        let json = args.json
        let console = session.console
        let stop = { session.interrupt.isSet }
        let answer: OpenAIClient.StreamedAnswer
        let roundTrip: Double
        var streamed = false
        do {
            roundTrip = try api.client.models(shouldStop: stop).seconds
            answer = try api.client.streamCompletion(
                .init(prompt: prompt, maxTokens: maxTokens, temperature: temperature, seed: seed), shouldStop: stop
            ) { piece in
                if !json { streamed = true; console.write(TextUtil.sanitize(piece, keepNewlines: true)) }
            }
        } catch let failure as APIFailure {
            // The error goes on a line of its own, after any text that did arrive.
            if streamed { console.line() }
            if failure.kind == .interrupted { throw CommandError.interrupted }
            throw CommandError.failed("\(api.name): \(failure.detail)")
        }
        session.figures["rtt_ms"] = roundTrip * 1000
        session.figures["text_hash"] = GenCommand.hash(text: answer.text)
        if let n = answer.promptTokens { session.figures["prompt_tokens"] = Double(n) }
        if let n = answer.completionTokens { session.figures["new_tokens"] = Double(n) }
        if let t = answer.timeToFirstToken { session.figures["ttft_ms"] = t * 1000 }
        if let r = answer.decodeTokensPerSecond { session.figures["decode_tps"] = r }
        if json {
            return console.line(try JSONText.encode(JSONOutput(
                prompt: prompt, text: answer.text, prompt_tokens: answer.promptTokens, new_tokens: answer.completionTokens,
                round_trip_s: roundTrip, time_to_first_token_s: answer.timeToFirstToken,
                decode_tokens_per_s: answer.decodeTokensPerSecond, total_s: answer.seconds,
                stop_reason: answer.finishReason ?? "?", model: api.name)))
        }
        console.line()
        console.line(console.styled(statsLine(answer, roundTrip: roundTrip), .dim))
    }

    /// Like the local stats line, but every figure is what the client saw, network included.
    static func statsLine(_ a: OpenAIClient.StreamedAnswer, roundTrip: Double) -> String {
        func count(_ n: Int?) -> String { n.map(String.init) ?? "?" }
        let first = a.timeToFirstToken.map { String(format: "%.0f ms", $0 * 1000) } ?? "–"
        let rate = a.decodeTokensPerSecond.map { String(format: "%.1f tok/s", $0) } ?? "– tok/s"
        return String(format: "— %@ prompt tokens, %@ new (server's usage) · round trip %.0f ms · first token %@ · %@ after it · %.2f s in all · stopped: %@ · measured over the API",
                      count(a.promptTokens), count(a.completionTokens), roundTrip * 1000, first, rate, a.seconds,
                      a.finishReason ?? "?")
    }
}
