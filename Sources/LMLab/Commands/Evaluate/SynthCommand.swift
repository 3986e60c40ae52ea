import Foundation
import LMEngine

/// `synth llama --params 1B`: writes a random-weight llama model of that size,
/// so a student can watch decode speed and memory scale with parameter count.
struct SynthCommand: Command {
    let name = "synth"
    let topic = Topic.evaluate
    let summary = "write a random-weight llama model of any size (for speed and memory only) to bench"
    let usage = "synth llama --params SIZE [--type q4_0|q8_0|f16|f32] [--out FILE.gguf]"
    let examples = ["synth llama --params 1B", "synth llama --params 350M --type q8_0; load synth-llama-350M-q8_0; bench"]
    let flags = [
        Arguments.Flag("params", value: "SIZE", "parameters, e.g. 50M, 350M, 1B, 1.5B"),
        Arguments.Flag("type", value: "T", "weight type (default q4_0)"),
        Arguments.Flag("out", value: "FILE", "where to write (default: models/synth-llama-SIZE-TYPE.gguf)"),
    ]

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals == ["llama"] else { throw CommandError.usage("usage: \(usage) — only the llama architecture is synthesized") }
        guard let sizeText = args.options["params"] else { throw CommandError.usage("synth needs --params, e.g. --params 1B") }
        guard let target = SynthCommand.parseSize(sizeText), (10_000_000...100_000_000_000).contains(target) else {
            throw CommandError.usage("--params takes a size from 10M to 100B like 350M or 1.5B, got '\(TextUtil.sanitize(sizeText))'")
        }
        let typeName = (args.options["type"] ?? "q4_0").lowercased()
        let allowed: [GGMLType] = [.q4_0, .q8_0, .f16, .f32]
        guard let type = allowed.first(where: { $0.name.lowercased() == typeName }) else {
            throw CommandError.usage("--type takes one of: " + allowed.map { $0.name.lowercased() }.joined(separator: ", "))
        }
        let shape = SyntheticModel.shape(forParameters: target)
        let bytes = SyntheticModel.tensorBytes(shape, type: type) ?? 0
        // The writer holds the tensors in memory before the file is written, and loading maps it again.
        if let available = session.availableMemory(), bytes > available * 8 / 10 {
            throw CommandError.state("a \(sizeText) model in \(type.name) needs \(TextUtil.bytes(bytes)); "
                                     + "only \(TextUtil.bytes(available)) is free — try a smaller --params or --type q4_0")
        }
        let label = sizeText.uppercased()
        let url = args.options["out"].map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
            ?? ModelLocator.downloadFolder(home: session.home).appendingPathComponent("synth-llama-\(label)-\(typeName).gguf")
        let console = session.console
        console.line("shape: \(shape.layers) layers × width \(shape.embedding), \(shape.heads)/\(shape.kvHeads) heads, "
                     + "MLP \(shape.feedForward), vocabulary \(TextUtil.grouped(shape.vocabulary)) — "
                     + "\(TextUtil.count(shape.parameters)) parameters, \(TextUtil.bytes(bytes)) in \(type.name)")
        let start = Date()
        do {
            try SyntheticModel.write(shape, type: type, to: url, threads: session.settings.int("threads"),
                                     shouldStop: { session.interrupt.isSet })
        } catch is CancellationError {
            throw CommandError.interrupted
        } catch {
            throw CommandError.failed("can't write '\(TextUtil.sanitize(url.path))': \(TextUtil.reason(for: error))")
        }
        console.line(String(format: "wrote %@ in %.1f s — random weights: good for speed and memory only, its text is noise",
                            url.path, Date().timeIntervalSince(start)))
        console.line("next: load \(url.deletingPathExtension().lastPathComponent); bench")
    }

    /// "350M" → 350,000,000; "1.5B" → 1,500,000,000; plain numbers as they are.
    static func parseSize(_ text: String) -> Int? {
        let t = text.uppercased()
        let multiplier: Double
        var number = Substring(t)
        switch t.last {
        case "K": multiplier = 1e3; number = number.dropLast()
        case "M": multiplier = 1e6; number = number.dropLast()
        case "B", "G": multiplier = 1e9; number = number.dropLast()
        default: multiplier = 1
        }
        guard let v = Double(number), v > 0, v.isFinite else { return nil }
        return Int(v * multiplier)
    }
}
