import Foundation
import LMEngine

/// `attention TEXT [LAYER] [HEAD]`: who looks at whom — one layer's softmaxed
/// attention weights over the prompt as a token × token heatmap.
struct AttentionCommand: Command {
    let name = "attention"
    let aliases = ["attn"]
    let topic = Topic.inspect
    let summary = "heatmap of one layer's attention weights over a prompt (--summary: every layer and head)"
    let usage = "attention TEXT [LAYER] [HEAD] [--summary] [--json]"
    let examples = ["attention \"The cat sat on the mat because it was tired\" 5",
                    "attention \"The cat sat on the mat\" 3 0", "attention \"The cat sat on the mat\" --summary"]
    let flags = [
        Arguments.Flag("summary", "for every layer and head, the key position it attends to most"),
        Arguments.Flag.json("with the weights (or the summary)"),
    ]
    /// Rows and columns drawn at most; the heatmap is two columns per token.
    static let maxDrawn = 48

    struct JSONMap: Codable { var tokens: [String]; var layer: Int; var head: Int?; var weights: [[Float]] }
    struct JSONSummary: Codable { var tokens: [String]; var most_attended: [[Int]]; var mean_weight: [[Double]] }

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let model = loaded.model, c = model.config
        let (words, numbers) = InspectInput.trailingNumbers(args.positionals, upTo: 2)
        let text = words.joined(separator: " ")
        guard !text.isEmpty else { throw CommandError.usage("attention needs a text, e.g. attention The cat sat on the mat 3") }
        let summary = args.flag("summary")
        if summary && !numbers.isEmpty { throw CommandError.usage("--summary covers every layer and head; leave out LAYER and HEAD") }
        let layer = numbers.first ?? c.layers - 1
        guard (0..<c.layers).contains(layer) else {
            throw CommandError.usage("layer \(layer) is out of range: this model has layers 0…\(c.layers - 1)")
        }
        let head = numbers.count > 1 ? numbers[1] : nil
        if let head, !(0..<c.heads).contains(head) {
            throw CommandError.usage("head \(head) is out of range: this model has heads 0…\(c.heads - 1)")
        }
        let ids = try InspectInput.encode(text, loaded: loaded)
        let tokens = ids.map { TokensCommand.pieceText($0, model.tokenizer) }
        let T = ids.count
        let console = session.console

        // Collected by the engine hook, batch by batch (a prompt over 64 tokens comes in several).
        var map = [[Float]](repeating: [Float](repeating: 0, count: T), count: T)              // the chosen layer
        var sums = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: T), count: c.heads),
                                count: summary ? c.layers : 0)                                   // --summary
        let heads = c.heads
        model.onAttention = { w in
            for t in 0..<w.n {
                let query = w.p0 + t
                if summary {
                    // Query 0 can only see itself; it would pull every head towards position 0.
                    guard query > 0 || T == 1 else { continue }
                    for h in 0..<heads { for k in 0...query { sums[w.layer][h][k] += Double(w.weight(query: t, head: h, key: k)) } }
                } else if w.layer == layer {
                    for k in 0...query {
                        var v: Float = 0
                        if let head { v = w.weight(query: t, head: head, key: k) } else {
                            for h in 0..<heads { v += w.weight(query: t, head: h, key: k) }
                            v /= Float(heads)
                        }
                        map[query][k] = v
                    }
                }
            }
        }
        defer { model.onAttention = nil }
        loaded.forgetConversation()
        model.reset()
        try model.forward(ids, logitsFrom: ids.count) { _, _ in }   // no logits needed
        model.onAttention = nil

        if summary {
            let queries = Double(max(1, T - 1))
            let best = sums.map { $0.map { row in row.indices.max { row[$0] < row[$1] } ?? 0 } }
            let means = sums.enumerated().map { (l, hs) in hs.enumerated().map { (h, row) in row[best[l][h]] / queries } }
            let sinks = best.flatMap { $0 }.filter { $0 == 0 }.count
            let allHeads = c.layers * c.heads
            session.figures["sink_heads"] = Double(sinks)
            session.figures["heads"] = Double(allHeads)
            // The mean weight every head puts on position 0, over queries 1…T−1.
            session.figures["sink_weight_pct"] = 100 * sums.flatMap { $0 }.reduce(0) { $0 + ($1.first ?? 0) / queries } / Double(max(1, allHeads))
            if args.json {
                console.line(try JSONText.encode(JSONSummary(tokens: tokens, most_attended: best, mean_weight: means)))
                return
            }
            console.line("most-attended key position per layer and head (mean weight over queries 1…\(T - 1)):")
            var t = Table(["layer"] + (0..<c.heads).map { "head \($0)" })
            for l in 0..<c.layers {
                t.add(["\(l)"] + (0..<c.heads).map { h in "\(best[l][h]) " + String(format: "%3.0f%%", means[l][h] * 100) })
            }
            console.line(t.render(console: console))
            // The sink is named only when most heads show it, so the sentence never outruns the count.
            console.line("\(sinks) of \(allHeads) heads look hardest at position 0 (\(InspectInput.quoted(ids[0], model.tokenizer)))"
                         + (sinks * 2 > allHeads ? ": the first token acts as an attention sink" : ""))
            return
        }

        if args.json {
            console.line(try JSONText.encode(JSONMap(tokens: tokens, layer: layer, head: head, weights: map)))
            return
        }
        let shown = min(T, AttentionCommand.maxDrawn)
        let labels = (0..<shown).map { i in
            TextUtil.pad("\(i)", to: 3, right: true) + " " + TextUtil.truncate(TokensCommand.visible(tokens[i]), to: 14)
        }
        let labelWidth = labels.map(TextUtil.displayWidth).max() ?? 0
        console.line("layer \(layer) (\(LayersCommand.kind(model, layer: layer)))"
                     + (head.map { ", head \($0)" } ?? ", mean of \(c.heads) heads")
                     + ": row = query token, column = key token it attends to; brighter = more weight")
        // The last digit of each key position above its column (two characters per cell).
        console.line(String(repeating: " ", count: labelWidth + 1)
                     + (0..<shown).map { String($0 % 10) + " " }.joined().trimmedRight())
        let matrix = map.prefix(shown).map { $0.prefix(shown).map(Double.init) }
        console.line(Charts.heatmap(matrix, rowLabels: labels, console: console, maxValue: 1))
        if T > shown { console.line("(the first \(shown) of \(T) tokens are drawn; --json has them all)") }
    }
}
