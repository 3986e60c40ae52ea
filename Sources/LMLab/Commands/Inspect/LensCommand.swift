import Foundation
import LMEngine

/// `lens TEXT`: the logit lens — what the model would predict if it stopped after
/// each layer: the last position's residual stream through the final norm and output head.
struct LensCommand: Command {
    let name = "lens"
    let topic = Topic.inspect
    let summary = "logit lens: the top next token and its probability after every layer"
    let usage = "lens TEXT [--json]"
    let examples = ["lens The capital of France is", "lens \"1, 2, 3, 4,\" --json"]
    let flags = [Arguments.Flag.json("with each layer's top token")]

    struct JSONLayer: Codable { var layer: Int; var id: Int32; var piece: String; var probability: Float; var final_token_probability: Float }
    struct JSONOutput: Codable {
        var text: String; var layers: [JSONLayer]
        var model_id: Int32; var model_piece: String; var model_probability: Float
    }

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let model = loaded.model, c = model.config, d = c.embedding
        let text = args.text
        guard !text.isEmpty else { throw CommandError.usage("lens needs a text, e.g. lens The capital of France is") }
        let ids = try InspectInput.encode(text, loaded: loaded)

        // The hook sees each batch; the last batch's last row is the last token, so keep overwriting.
        var residuals = [[Float]](repeating: [], count: c.layers)
        model.onResidual = { layer, rows in residuals[layer] = Array(rows[(rows.count - d)...]) }
        defer { model.onResidual = nil }
        loaded.forgetConversation()
        model.reset()
        let own = TokenDistribution(logits: try model.logitsAfter(ids))
        model.onResidual = nil
        let ownTop = own.top(1)[0]

        let lens = residuals.map { row in row.withUnsafeBufferPointer { TokenDistribution(logits: model.logits(fromResidual: $0.baseAddress!)) } }
        let tokenizer = model.tokenizer
        let layers = lens.enumerated().map { (l, dist) -> JSONLayer in
            let top = dist.top(1)[0]
            return JSONLayer(layer: l, id: top.id, piece: TokensCommand.pieceText(top.id, tokenizer), probability: top.probability,
                             final_token_probability: dist.probabilities[Int(ownTop.id)])
        }
        // The layer from which the lens agrees with the model for good: every layer from
        // there to the last has the model's own next token on top.
        let settled = (layers.lastIndex { $0.id != ownTop.id }).map { $0 + 1 } ?? 0
        session.figures["answer_layer"] = Double(settled)
        session.figures["layers"] = Double(c.layers)
        session.figures["answer_probability"] = Double(ownTop.probability)
        let console = session.console
        if args.json {
            console.line(try JSONText.encode(JSONOutput(text: text, layers: layers, model_id: ownTop.id,
                                                        model_piece: TokensCommand.pieceText(ownTop.id, tokenizer),
                                                        model_probability: ownTop.probability)))
            return
        }
        let final = InspectInput.quoted(ownTop.id, tokenizer)
        var t = Table(["layer", "top token", "p", "", "p(\(final))"], alignments: [.right, .left, .right, .left, .right])
        for l in layers {
            let label = InspectInput.quoted(l.id, tokenizer)
            t.add(["\(l.layer)", l.id == ownTop.id ? console.styled(label, .bold) : label,
                   String(format: "%.3f", l.probability), console.styled(Charts.bar(Double(l.probability), max: 1, width: 20), .cyan),
                   String(format: "%.3f", l.final_token_probability)])
        }
        console.line(t.render(console: console))
        console.line("the model's own next token: \(final) (p = \(String(format: "%.3f", ownTop.probability))) — "
                     + "each row is what the last position's residual stream would predict if the model stopped after that layer")
    }
}
