import Foundation
import LMEngine

/// `bench`: prefill and decode speed of the loaded model as llama-bench
/// reports them, peak memory, and decode as a share of the bandwidth roofline.
struct BenchCommand: Command {
    let name = "bench"
    let topic = Topic.evaluate
    let summary = "prefill (pp) and decode (tg) tok/s, peak memory, share of the memory-bandwidth roofline"
    let usage = "bench [--prompt N] [--gen N] [--reps R] [--json]"
    let examples = ["bench", "bench --prompt 128 --gen 64 --reps 5", "set threads 1; bench"]
    let flags = [
        Arguments.Flag("prompt", value: "N", "prompt tokens processed in one batch (default 128)"),
        Arguments.Flag("gen", value: "N", "tokens generated one by one (default 64)"),
        Arguments.Flag("reps", value: "R", "repetitions after a warm-up (default 3)"),
        Arguments.Flag("json", "print one JSON object with every figure"),
    ]

    struct Output: Codable {
        var result: BenchResult
        var bandwidth_bytes_per_s: Double
        var roofline_decode_tokens_per_s: Double
    }

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let model = loaded.model
        let prompt: Int = try args.number("prompt", in: 0...min(4096, model.cache.capacity)) ?? min(128, model.cache.capacity)
        let gen: Int = try args.number("gen", in: 0...min(4096, model.cache.capacity)) ?? min(64, model.cache.capacity)
        let reps: Int = try args.number("reps", in: 1...100) ?? 3
        guard prompt + gen > 0 else { throw CommandError.usage("nothing to measure: --prompt and --gen are both 0") }
        let result: BenchResult
        do {
            result = try Benchmark.run(model: model, promptTokens: prompt, genTokens: gen, repetitions: reps,
                                       shouldStop: { session.interrupt.isSet })
        } catch is CancellationError { throw CommandError.interrupted }
        loaded.conversation = []; loaded.conversationTokens = []
        // After the runs, so the probe's buffer doesn't count in their peak memory.
        let bandwidth = BenchCommand.bandwidth(session: session, threads: model.compute.threads)
        let roofline = bandwidth / Double(result.weightBytes)
        let console = session.console
        if prompt > 0 { session.figures["pp_tps"] = BenchResult.median(result.prefill) }
        if gen > 0 { session.figures["tg_tps"] = BenchResult.median(result.decode) }
        session.figures["peak_mib"] = Double(result.peakResidentBytes) / 1_048_576
        session.figures["weights_mib"] = Double(result.weightBytes) / 1_048_576
        session.figures["roofline_share"] = gen > 0 ? BenchResult.median(result.decode) / roofline : 0
        if args.flag("json") {
            console.line(try JSONText.encode(Output(result: result, bandwidth_bytes_per_s: bandwidth, roofline_decode_tokens_per_s: roofline)))
            return
        }
        let weights = loaded.weightSet.map { "\($0.requested.name) (in memory)" } ?? "\(model.config.fileType ?? "?") (file)"
        var t = Table(["model", "weights", "size", "threads", "test", "tok/s"])
        let size = TextUtil.bytes(result.weightBytes)
        if prompt > 0 {
            t.add([loaded.name, weights, size, "\(result.threads)", "pp\(prompt)",
                   String(format: "%.1f ± %.1f", BenchResult.median(result.prefill), BenchResult.spread(result.prefill))])
        }
        if gen > 0 {
            t.add([loaded.name, weights, size, "\(result.threads)", "tg\(gen)",
                   String(format: "%.1f ± %.1f", BenchResult.median(result.decode), BenchResult.spread(result.decode))])
        }
        console.line(t.render(console: console))
        console.line("peak memory \(TextUtil.bytes(result.peakResidentBytes)) · median of \(reps) runs after a warm-up")
        if gen > 0 {
            let share = BenchResult.median(result.decode) / roofline
            console.line(String(format: "decode roofline: %.1f GB/s read bandwidth ÷ %@ of weights per token = %.0f tok/s; measured is %.0f%% of it",
                                bandwidth / 1e9, TextUtil.bytes(result.weightBytes), roofline, share * 100))
            console.line("  " + Charts.bar(share, max: 1, width: 40) + String(format: " %.0f%%", share * 100))
        }
    }

    /// Measured once per thread count and kept in the lab's state folder.
    static func bandwidth(session: Session, threads: Int) -> Double {
        let file = session.home.appendingPathComponent("bandwidth-\(threads)t.txt")
        if let text = try? String(contentsOf: file, encoding: .utf8),
           let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), v > 0 { return v }
        session.console.note("measuring memory bandwidth once (kept in \(file.path))…")
        let v = MemoryBandwidth.measure(threads: threads)
        try? FileManager.default.createDirectory(at: session.home, withIntermediateDirectories: true)
        try? String(v).write(to: file, atomically: true, encoding: .utf8)
        return v
    }
}
