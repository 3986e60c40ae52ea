import Foundation
import LMEngine

/// `next TEXT [K]`: the model's distribution over the next token — the top K as bars, and its entropy.
struct NextCommand: Command {
    let name = "next"
    let topic = Topic.inspect
    let summary = "top-K next tokens with probability bars and the entropy in bits"
    let usage = "next TEXT [K] [--temp T] [--json]"
    let examples = ["next The capital of France is", "next \"Once upon a\" 20", "next \"2 + 2 =\" --temp 2", "next hello --json"]
    let flags = [
        Arguments.Flag("temp", value: "T", "show softmax(logits / T) instead of T = 1; 0 = greedy"),
        Arguments.Flag.json("with the top tokens and the entropy"),
    ]

    struct JSONToken: Codable { var id: Int32; var piece: String; var probability: Float; var logit: Float }
    struct JSONOutput: Codable {
        var text: String; var ids: [Int32]; var temperature: Float; var entropy_bits: Double; var top: [JSONToken]
    }

    func run(_ args: Arguments, session: Session) throws {
        if let api = session.models.currentAPI { return try APINext.run(args, api: api, session: session) }
        let loaded = try session.requireModel()
        let model = loaded.model
        let (words, numbers) = InspectInput.trailingNumbers(args.positionals, upTo: 1)
        let text = words.joined(separator: " ")
        guard !text.isEmpty else { throw CommandError.usage("next needs a text, e.g. next The capital of France is") }
        let k = numbers.first ?? 10
        guard (1...model.config.vocabulary).contains(k) else {
            throw CommandError.usage("K must be between 1 and \(model.config.vocabulary), got \(k)")
        }
        let temperature: Double = try args.number("temp", in: 0...100) ?? 1
        let (ids, logits) = try InspectInput.logits(after: text, loaded: loaded)
        let dist = TokenDistribution(logits: logits, temperature: Float(temperature))
        let top = dist.top(k)
        let tokenizer = model.tokenizer
        let console = session.console
        session.figures["entropy_bits"] = dist.entropyBits
        session.figures["top_probability"] = Double(top.first?.probability ?? 0)
        if args.json {
            let out = JSONOutput(text: text, ids: ids, temperature: Float(temperature), entropy_bits: dist.entropyBits,
                                 top: top.map { JSONToken(id: $0.id, piece: TokensCommand.pieceText($0.id, tokenizer),
                                                          probability: $0.probability, logit: logits[Int($0.id)]) })
            console.line(try JSONText.encode(out))
            return
        }
        console.line("after \(ids.count) tokens, at temperature \(String(format: "%g", temperature)):")
        let items = top.map { (label: InspectInput.quoted($0.id, tokenizer) + " " + console.styled("#\($0.id)", .dim),
                               value: Double($0.probability)) }
        console.line(Charts.barChart(items, width: 30, format: { String(format: "%.3f", $0) }, console: console))
        let covered = top.reduce(0.0) { $0 + Double($1.probability) }
        console.line(String(format: "entropy %.2f bits (at most %.2f for %@ tokens) · these %d hold %.1f%%",
                            dist.entropyBits, log2(Double(model.config.vocabulary)),
                            TextUtil.grouped(model.config.vocabulary) as NSString, top.count, covered * 100))
    }
}
