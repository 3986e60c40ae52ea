import Foundation
import LMEngine

/// `compare quant T1 T2 …`: the quantization ladder in one table and three charts —
/// type, bits per weight, MiB, prefill and decode tok/s, PPL, ΔPPL, mean KLD,
/// same-top share and a greedy sample, each type rebuilt from the f32 expansion.
enum CompareQuant {
    static let usage = "compare quant T1 T2 … [--text FILE] [--chunks N] [--prompt N] [--gen N] [--json]"
    static let flags = [
        Arguments.Flag("text", value: "FILE", "compare quant: the evaluation text (default: data/eval-prose.txt)"),
        Arguments.Flag("chunks", value: "N", "compare quant: score only the first N chunks of 256 tokens"),
        Arguments.Flag("prompt", value: "N", "compare quant: prompt tokens for the prefill measurement (default 64)"),
        Arguments.Flag("gen", value: "N", "compare quant: tokens for the decode measurement (default 32)"),
    ]

    static func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let words = args.positionals.map { $0.lowercased() }
        guard !words.isEmpty else { throw CommandError.usage("name the types to compare, e.g. compare quant f32 q8_0 q4_0") }
        let types = try words.map { try QuantCommand.parseType($0, allowFile: true) }
        let (text, shown) = try EvalText.read(args.options["text"])
        let ladder = QuantLadder(loaded: loaded, text: text, chunks: try args.number("chunks", in: 1...1_000_000),
                                 promptTokens: try args.number("prompt", in: 1...4096) ?? 64,
                                 genTokens: try args.number("gen", in: 1...4096) ?? 32,
                                 samplePrompt: "The capital of France is", sampleTokens: 10,
                                 shouldStop: { session.interrupt.isSet })
        let console = session.console
        let json = args.json
        var rungs: [QuantRung] = []
        let bar = json ? nil : ProgressBar(label: "compare", total: Double(types.count), unit: "types", console: console)
        for type in types {
            do { rungs.append(try ladder.measure(type)) } catch { throw CommandError(error) }
            bar?.update(Double(rungs.count))
        }
        bar?.finish(Double(rungs.count))
        for r in rungs {
            let key = r.type.lowercased().hasPrefix("file") ? "file" : r.type.lowercased()
            session.figures["tg_tps_\(key)"] = r.decode_tokens_per_s
            session.figures["kld_\(key)"] = r.mean_kld
            session.figures["ppl_\(key)"] = r.perplexity
        }
        if json {
            struct Output: Codable { var model: String; var text: String; var rows: [QuantRung] }
            console.line(try JSONText.encode(Output(model: loaded.name, text: shown, rows: rungs)))
            return
        }
        console.line("\(loaded.name) on \(shown) — every type rebuilt from the f32 expansion of the file; KLD and same-top against that f32 reference")
        var table = Table(["type", "bits/w", "MiB", "pp tok/s", "tg tok/s", "PPL", "ΔPPL", "KLD", "same top", "greedy sample"])
        for r in rungs {
            table.add([r.type, String(format: "%.2f", r.bits_per_weight), String(format: "%.1f", Double(r.weight_bytes) / 1_048_576),
                       String(format: "%.0f", r.prefill_tokens_per_s), String(format: "%.1f", r.decode_tokens_per_s),
                       String(format: "%.3f", r.perplexity), String(format: "%+.3f", r.delta_perplexity),
                       String(format: "%.4f", max(0, r.mean_kld)), String(format: "%.1f%%", r.same_top_percent),
                       TextUtil.truncate(SampleCommand.oneLine(r.sample), to: 32)])
        }
        console.line(table.render(console: console))
        for (title, value, format) in [("size (MiB)", { (r: QuantRung) in Double(r.weight_bytes) / 1_048_576 }, "%.1f"),
                                       ("decode (tok/s)", { (r: QuantRung) in r.decode_tokens_per_s }, "%.1f"),
                                       ("mean KLD vs f32", { (r: QuantRung) in max(0, r.mean_kld) }, "%.4f")] {
            console.line()
            console.line(console.styled(title, .bold))
            console.line(Charts.barChart(rungs.map { (label: $0.type, value: value($0)) }, width: 30,
                                         format: { String(format: format, $0) }, console: console))
        }
        console.line(console.styled("the model is back on the file's weights (speed figures: 1 run each after a warm-up; use bench for more)", .dim))
    }
}
