import Foundation
import LMEngine

/// `synth ARCH --params 1B` or `synth ARCH --like qwen3-0.6b`: writes a random-weight model
/// of any architecture the lab runs, so a student can watch decode speed and memory scale
/// with parameter count, and so the architecture can be held to llama.cpp on the same file.
struct SynthCommand: Command {
    let name = "synth"
    let topic = Topic.evaluate
    let summary = "write a random-weight model of any architecture and size (speed, memory, agreement) to bench"
    let usage = "synth ARCH (--params SIZE | --like MODEL) [--type q4_0|q8_0|f16|f32|q4_k|q5_k|q6_k|q4_k_m] [--seed N] [--out FILE.gguf] [--plan] [--keep]"
    let positionals: ClosedRange<Int>? = 1...1
    let examples = ["synth llama --params 1B", "synth qwen3 --like qwen3-0.6b --type q4_k_m",
                    "synth llama --params 350M --type q8_0; load synth-llama-350M-q8_0; bench"]
    let flags = [
        Arguments.Flag("params", value: "SIZE", "parameters, e.g. 50M, 350M, 1B, 1.5B (a llama-like shape)"),
        Arguments.Flag("like", value: "MODEL", "the shape of a real model: " + SynthCommand.presets.keys.sorted().joined(separator: ", ")),
        Arguments.Flag("type", value: "T", "weight type (default q4_0; q4_k_m: Q4_K with attn_v and ffn_down in Q6_K)"),
        Arguments.Flag("seed", value: "N", "the random weights' seed (default 1): the same seed writes the same file"),
        Arguments.Flag("out", value: "FILE", "where to write (default: models/synth-ARCH-SIZE-TYPE.gguf)"),
        Arguments.Flag("plan", "only the shape, parameters and bytes: nothing is written (instant, even for 70B)"),
        Arguments.Flag("keep", "when the file already holds this plan (architecture, shape, type, seed), keep it instead of writing it again"),
    ]

    /// Real models' shapes (layers, width, heads, kv heads, MLP, vocabulary, head size), from their GGUF metadata.
    static let presets: [String: SyntheticModel.Shape] = [
        "smollm2-135m": .init(layers: 30, embedding: 576, heads: 9, kvHeads: 3, feedForward: 1536, vocabulary: 49_152),
        "gemma2-2b": .init(layers: 26, embedding: 2304, heads: 8, kvHeads: 4, feedForward: 9216, vocabulary: 256_000, headSize: 256),
        "gemma3-270m": .init(layers: 18, embedding: 640, heads: 4, kvHeads: 1, feedForward: 2048, vocabulary: 262_144, headSize: 256),
        "qwen2.5-0.5b": .init(layers: 24, embedding: 896, heads: 14, kvHeads: 2, feedForward: 4864, vocabulary: 151_936),
        "qwen2.5-1.5b": .init(layers: 28, embedding: 1536, heads: 12, kvHeads: 2, feedForward: 8960, vocabulary: 151_936),
        "qwen3-0.6b": .init(layers: 28, embedding: 1024, heads: 16, kvHeads: 8, feedForward: 3072, vocabulary: 151_936, headSize: 128),
        "qwen3-4b": .init(layers: 36, embedding: 2560, heads: 32, kvHeads: 8, feedForward: 9728, vocabulary: 151_936, headSize: 128),
        "llama3.2-1b": .init(layers: 16, embedding: 2048, heads: 32, kvHeads: 8, feedForward: 8192, vocabulary: 128_256),
        "llama3.2-3b": .init(layers: 28, embedding: 3072, heads: 24, kvHeads: 8, feedForward: 8192, vocabulary: 128_256),
        "llama3.1-8b": .init(layers: 32, embedding: 4096, heads: 32, kvHeads: 8, feedForward: 14_336, vocabulary: 128_256),
        "phi3.5-mini": .init(layers: 32, embedding: 3072, heads: 32, kvHeads: 32, feedForward: 8192, vocabulary: 32_064),
    ]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? ArchitectureRegistry.names : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let architecture = args.positionals[0]
        guard let type = ArchitectureRegistry.type(named: architecture) else {
            throw CommandError.usage("synth writes one of: \(ArchitectureRegistry.names.joined(separator: ", ")); '\(TextUtil.sanitize(architecture))' isn't one")
        }
        let shape: SyntheticModel.Shape, sizeLabel: String
        switch (args.options["params"], args.options["like"]) {
        case (let sizeText?, nil):
            guard let target = SynthCommand.parseSize(sizeText), (10_000_000...100_000_000_000).contains(target) else {
                throw CommandError.usage("--params takes a size from 10M to 100B like 350M or 1.5B, got '\(TextUtil.sanitize(sizeText))'")
            }
            shape = SyntheticModel.shape(forParameters: target)
            sizeLabel = sizeText.uppercased()
        case (nil, let like?):
            guard let preset = SynthCommand.presets[like.lowercased()] else {
                throw CommandError.usage("--like takes one of: \(SynthCommand.presets.keys.sorted().joined(separator: ", "))")
            }
            shape = preset
            sizeLabel = like.lowercased()
        default:
            throw CommandError.usage("synth needs one of --params (e.g. --params 1B) or --like (e.g. --like qwen3-0.6b)")
        }
        guard type.syntheticLayout(shape) != nil else {
            throw CommandError.usage("synth can't write \(architecture) files yet")
        }
        let typeName = (args.options["type"] ?? "q4_0").lowercased()
        let allowed: [String: GGMLType] = ["q4_0": .q4_0, "q8_0": .q8_0, "f16": .f16, "f32": .f32, "q4_k": .q4_K, "q5_k": .q5_K, "q6_k": .q6_K, "q4_k_m": .q4_K]
        guard let weightType = allowed[typeName] else {
            throw CommandError.usage("--type takes one of: " + allowed.keys.sorted().joined(separator: ", "))
        }
        let mixture = typeName == "q4_k_m"
        let seed: UInt64 = try args.number("seed", in: 0...UInt64(Int64.max)) ?? 1
        let bytes = SyntheticModel.tensorBytes(shape, type: weightType, architecture: architecture, mixture: mixture) ?? 0
        let console = session.console
        let parameters = SyntheticModel.parameters(shape, layout: type.syntheticLayout(shape)!)
        session.figures["parameters"] = Double(parameters)
        session.figures["weights_mib"] = Double(bytes) / 1_048_576
        console.line("shape: \(architecture), \(shape.layers) layers × width \(shape.embedding), \(shape.heads)/\(shape.kvHeads) heads of \(shape.headDim), "
                     + "MLP \(shape.feedForward), vocabulary \(TextUtil.grouped(shape.vocabulary)) — "
                     + "\(TextUtil.count(parameters)) parameters, \(TextUtil.bytes(bytes)) in \(typeName)")
        // A plan needs no memory and no disk: the figures above are worked out from the shape.
        if args.flag("plan") {
            console.line("(--plan: nothing written; without it, synth writes the file and says how to load it)")
            return
        }
        // The writer holds the tensors in memory before the file is written, and loading maps it again.
        if let available = session.availableMemory(), bytes > available * 8 / 10 {
            throw CommandError.state("a \(sizeLabel) model in \(typeName) needs \(TextUtil.bytes(bytes)); "
                                     + "only \(TextUtil.bytes(available)) is free — try a smaller --params or --type q4_0")
        }
        let url = args.options["out"].map { LabPath.url($0, home: session.home) }
            ?? ModelLocator.downloadFolder(home: session.home).appendingPathComponent("synth-\(architecture)-\(sizeLabel)-\(typeName).gguf")
        // Same seed, same plan: the same bytes. A lesson that needs a 1B file writes it once.
        let plan = "\(architecture) \(shape) \(typeName) seed \(seed)"
        if args.flag("keep"), let existing = try? GGUFFile(url: url), (try? existing.string("lmlab.synth.plan")) == plan {
            console.line("kept \(url.path): it already holds this plan (same shape, type and seed, so the same bytes)")
            console.line("next: load \(url.deletingPathExtension().lastPathComponent); bench")
            return
        }
        let start = Date()
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try SyntheticModel.write(shape, architecture: architecture, type: weightType, mixture: mixture, to: url, seed: seed,
                                     threads: session.settings.int("threads"), plan: plan, shouldStop: { session.interrupt.isSet })
        } catch is CancellationError {
            throw CommandError.interrupted
        } catch {
            throw CommandError.failed("can't write '\(TextUtil.sanitize(url.path))': \(TextUtil.reason(for: error))")
        }
        console.line(String(format: "wrote %@ in %.1f s — random weights: good for speed, memory and agreement only, its text is noise",
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
