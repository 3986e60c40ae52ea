import Foundation
import LMEngine

/// `info`: the loaded model's key figures and where its parameters, bytes and
/// per-token arithmetic go.
struct InfoCommand: Command {
    let name = "info"
    let topic = Topic.inspect
    let summary = "parameter budget by component, bytes by tensor type, KV-cache and FLOPs per token"
    let usage = "info [--json]"
    let positionals: ClosedRange<Int>? = 0...0
    let examples = ["info", "info --json"]
    let flags = [Arguments.Flag.json("with the figures")]

    struct JSONPart: Codable { var component: String; var parameters: Int; var bytes: Int; var share: Double }
    struct JSONType: Codable { var type: String; var tensors: Int; var parameters: Int; var bytes: Int }
    struct JSONOutput: Codable {
        var model: String; var architecture: String; var layers: Int; var embedding: Int
        var parameters: Int; var tensor_bytes: Int; var file_bytes: Int
        var components: [JSONPart]; var types: [JSONType]; var output_tied: Bool
        var kv_cache_bytes_per_token: Int; var flops_per_token: Int; var attention_flops_per_context_token: Int
    }

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let model = loaded.model, c = model.config
        let b = ParameterBudget(model: model)
        let total = max(1, b.total)
        let console = session.console
        session.figures["parameters"] = Double(b.total)
        session.figures["embedding_share_pct"] = 100 * Double(b.parts.first { $0.component == .embeddings }?.parameters ?? 0) / Double(total)
        session.figures["kv_bytes_per_token"] = Double(b.kvCacheBytesPerToken)
        session.figures["flops_per_token"] = Double(b.flopsPerToken)
        // What lesson 2's prose says about the budget, so its verdicts can say it from the file.
        func share(_ components: [ParameterBudget.Component]) -> Double {
            100 * Double(b.parts.filter { components.contains($0.component) }.reduce(0) { $0 + $1.parameters }) / Double(total)
        }
        session.figures["mlp_share_pct"] = share([.mlpGate, .mlpUp, .mlpDown])
        session.figures["attention_share_pct"] = share([.attentionQ, .attentionK, .attentionV, .attentionOutput])
        session.figures["output_tied"] = b.outputTied ? 1 : 0
        session.figures["vocabulary"] = Double(c.vocabulary)
        session.figures["d_model"] = Double(c.embedding)
        session.figures["layers"] = Double(c.layers)
        if args.json {
            let out = JSONOutput(
                model: loaded.name, architecture: c.architecture, layers: c.layers, embedding: c.embedding,
                parameters: b.total, tensor_bytes: b.totalBytes, file_bytes: model.gguf.fileSize,
                components: b.parts.map { JSONPart(component: $0.component.rawValue, parameters: $0.parameters,
                                                   bytes: $0.bytes, share: Double($0.parameters) / Double(total)) },
                types: b.types.map { JSONType(type: $0.type, tensors: $0.tensors, parameters: $0.parameters, bytes: $0.bytes) },
                output_tied: b.outputTied, kv_cache_bytes_per_token: b.kvCacheBytesPerToken,
                flops_per_token: b.flopsPerToken, attention_flops_per_context_token: b.attentionFlopsPerContextToken)
            console.line(try JSONText.encode(out))
            return
        }

        console.line(console.styled("\(loaded.name)", .bold) + " — \(c.architecture), \(c.layers) layers, d_model \(c.embedding), "
                     + "\(c.heads)/\(c.kvHeads) heads, vocabulary \(TextUtil.grouped(c.vocabulary))")
        console.line("parameters \(TextUtil.count(b.total)) (\(TextUtil.grouped(b.total))) · file \(TextUtil.bytes(model.gguf.fileSize))"
                     + String(format: " · %.2f bits per parameter", Double(b.totalBytes * 8) / Double(total)))
        console.line()

        var t = Table(["component", "parameters", "≈", "share", "", "bytes"],
                      alignments: [.left, .right, .left, .right, .left, .right])
        for p in b.parts {
            let share = Double(p.parameters) / Double(total)
            t.add([p.component.rawValue, TextUtil.grouped(p.parameters), TextUtil.count(p.parameters),
                   String(format: "%.1f%%", share * 100), console.styled(Charts.bar(share, max: 1, width: 20), .cyan),
                   TextUtil.bytes(p.bytes)])
        }
        if b.outputTied { t.add(["output head", "tied to embeddings", "", "—", "", "—"]) }
        t.add(["total", TextUtil.grouped(b.total), TextUtil.count(b.total), "100.0%", "", TextUtil.bytes(b.totalBytes)])
        console.line(t.render(console: console))
        console.line()

        var types = Table(["tensor type", "tensors", "parameters", "bytes", "bits/weight"])
        for s in b.types {
            types.add([s.type, "\(s.tensors)", TextUtil.grouped(s.parameters), TextUtil.bytes(s.bytes),
                       String(format: "%.2f", Double(s.bytes * 8) / Double(max(1, s.parameters)))])
        }
        console.line(types.render(console: console))
        console.line()

        let kv = b.kvCacheBytesPerToken
        console.line("KV cache per token   " + TextUtil.bytes(kv)
                     + " (f32 keys + values: \(c.layers) layers × 2 × \(c.kvWidth) × 4 bytes); "
                     + TextUtil.bytes(kv * model.cache.capacity) + " for the \(TextUtil.grouped(model.cache.capacity))-token context")
        console.line("FLOPs per token      " + TextUtil.count(b.flopsPerToken) + " (" + TextUtil.grouped(b.flopsPerToken) + ")"
                     + "\n                     = 2 × the multiply-adds of every weight matrix, output head included,"
                     + "\n                     plus " + TextUtil.grouped(b.attentionFlopsPerContextToken) + " for attention per token already in the context")
    }
}
