import Foundation
import LMEngine

/// `layers`: one row per transformer layer — what its attention sees, its size, its tensor types.
struct LayersCommand: Command {
    let name = "layers"
    let topic = Topic.inspect
    let summary = "a row per layer: attention kind, parameters, bytes, tensor types"
    let usage = "layers"
    let positionals: ClosedRange<Int>? = 0...0

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let model = loaded.model
        let budget = ParameterBudget(model: model)
        var t = Table(["layer", "attention", "parameters", "bytes", "tensor types"],
                      alignments: [.right, .left, .right, .right, .left])
        for l in budget.layers {
            t.add(["\(l.layer)", LayersCommand.kind(model, layer: l.layer), TextUtil.grouped(l.parameters),
                   TextUtil.bytes(l.bytes), LayersCommand.typeList(l.types)])
        }
        session.console.line(t.render(console: session.console))
        let inLayers = budget.layers.reduce(0) { $0 + $1.parameters }
        session.figures["layers"] = Double(budget.layers.count)
        session.figures["layer_parameters_min"] = Double(budget.layers.map(\.parameters).min() ?? 0)
        session.figures["layer_parameters_max"] = Double(budget.layers.map(\.parameters).max() ?? 0)
        session.figures["layers_share_pct"] = Double(inLayers) / Double(max(1, budget.total)) * 100
        session.console.line(String(format: "%d layers hold %@ parameters (%.1f%% of the model); the rest is embeddings, output head and final norm",
                                    budget.layers.count, TextUtil.count(inLayers) as NSString,
                                    Double(inLayers) / Double(max(1, budget.total)) * 100))
    }

    /// "global" or "local (window 512)".
    static func kind(_ model: DecoderModel, layer: Int) -> String {
        model.attentionWindow(layer: layer).map { "local (window \($0))" } ?? "global"
    }

    /// "Q4_1 ×7, F32 ×2", most tensors first.
    static func typeList(_ types: [String: Int]) -> String {
        types.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }
}
