import Foundation
import LMEngine

/// `quant TYPE`: re-quantize the loaded model's weights in memory, from the
/// file's weights expanded to f32; `quant reset` returns to the file's own.
struct QuantCommand: Command {
    let name = "quant"
    let topic = Topic.quantize
    let summary = "re-quantize the loaded weights in memory (f32 … q2_k), or `quant reset`"
    let usage = "quant TYPE|reset [--only attn|mlp|embed]"
    let positionals: ClosedRange<Int>? = 1...1
    let examples = ["quant q4_0", "quant q8_0 --only mlp", "quant reset"]
    let flags = [Arguments.Flag("only", value: "PART", "quantize only attn, mlp or embed (embeddings and output head)")]

    static var typeNames: [String] { WeightSet.offered.map { $0.name.lowercased() } }

    /// A weight type by its lower-case name, or nil for "file" (the file's own weights)
    /// when `allowFile`; a one-line error with a suggestion otherwise.
    static func parseType(_ word: String, allowFile: Bool) throws -> GGMLType? {
        if allowFile && word == "file" { return nil }
        if let t = WeightSet.offered.first(where: { $0.name.lowercased() == word }) { return t }
        let hint = Suggest.closest(to: word, in: typeNames).map { " — did you mean '\($0)'?" } ?? ""
        throw CommandError.usage("unknown type '\(TextUtil.sanitize(word))'\(hint); one of: "
                                 + (allowFile ? "file, " : "") + typeNames.joined(separator: ", "))
    }

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? QuantCommand.typeNames + ["reset"] : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let word = args.positionals[0].lowercased()
        let model = loaded.model
        let console = session.console
        let before = model.weightBytes
        if word == "reset" {
            model.use(nil)
            loaded.weightSet = nil
            console.line("back to the file's weights: \(TextUtil.bytes(model.weightBytes))")
            return
        }
        guard let type = try QuantCommand.parseType(word, allowFile: false) else { return }
        let part = args.options["only"]
        let include: (WeightSlot) -> Bool
        switch part {
        case nil: include = { _ in true }
        case "attn": include = { $0.name.contains(".attn_") }
        case "mlp": include = { $0.name.contains(".ffn_") }
        case "embed": include = { $0.name == "token_embd.weight" || $0.name == "output.weight" }
        default: throw CommandError.usage("--only takes attn, mlp or embed, got '\(TextUtil.sanitize(part!))'")
        }
        let bitsBefore = Double(before * 8) / Double(model.weightCount)
        // Start from the file's weights: a set replaces only the slots it includes.
        model.use(nil)
        loaded.weightSet = nil
        let set: WeightSet
        do {
            set = try WeightSet(model: model, type: type, include: include, outputRule: part == nil,
                                shouldStop: { session.interrupt.isSet })
        } catch is CancellationError {
            throw CommandError.interrupted
        }
        model.use(set)
        loaded.weightSet = set
        let after = model.weightBytes
        let bitsAfter = Double(after * 8) / Double(model.weightCount)
        session.figures["bits_per_weight"] = bitsAfter
        session.figures["weights_mib"] = Double(after) / 1_048_576
        console.line(String(format: "quantized %d tensors to %@ in %.2f s", set.changes.count, type.name, set.seconds))
        console.line(String(format: "  weights  %@ → %@   (%.2f → %.2f bits per weight)",
                            TextUtil.bytes(before), TextUtil.bytes(after), bitsBefore, bitsAfter))
        if part == nil, let head = set.changes.first(where: { $0.name == model.outputSlot.name }), head.to != type {
            console.line("  the output head (\(head.name)) keeps \(head.to.name), as llama-quantize's output rule does")
        }
        let fallbacks = set.changes.filter { $0.fellBack && $0.name != model.outputSlot.name }
        session.figures["tensors_quantized"] = Double(set.changes.count)
        session.figures["fallback_tensors"] = Double(fallbacks.count)
        session.figures["bits_per_weight_before"] = bitsBefore
        if !fallbacks.isEmpty {
            var byType: [String: Int] = [:]
            for f in fallbacks { byType[f.to.name, default: 0] += 1 }
            console.line("  \(fallbacks.count) tensors fell back (rows not a multiple of \(type.blockSize)): "
                         + byType.sorted { $0.key < $1.key }.map { "\($0.value) → \($0.key)" }.joined(separator: ", "))
        }
        if let fileType = model.config.fileType, !["F32", "F16", "BF16"].contains(fileType) {
            console.line(console.styled("  note: the file itself is \(fileType), so every level here starts from its "
                                        + "f32 expansion, not from the original checkpoint", .dim))
        }
    }
}
