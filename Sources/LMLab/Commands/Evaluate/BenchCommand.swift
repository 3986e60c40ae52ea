import Foundation
import LMEngine

/// `bench`: prefill and decode speed of the loaded model as llama-bench
/// reports them, peak memory, and decode as a share of the bandwidth roofline.
struct BenchCommand: Command {
    let name = "bench"
    let topic = Topic.evaluate
    let summary = "prefill (pp) and decode (tg) tok/s, peak memory, share of the memory-bandwidth roofline"
    let usage = "bench [--prompt N] [--gen N] [--reps R] [--depth D1,D2,…] [--json]"
    let examples = ["bench", "bench --prompt 128 --gen 64 --reps 5", "set threads 1; bench", "bench --depth 0,512,2048 --reps 1"]
    let flags = [
        Arguments.Flag("prompt", value: "N", "prompt tokens processed in one batch (default 128)"),
        Arguments.Flag("gen", value: "N", "tokens generated one by one (default 64)"),
        Arguments.Flag("reps", value: "R", "repetitions after a warm-up (default 3)"),
        Arguments.Flag("depth", value: "LIST", "measure with the context already holding this many tokens (llama-bench's @ dN)"),
        Arguments.Flag.json("with every figure"),
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
        let depths = try BenchCommand.depths(args.options["depth"], fitting: model.cache.capacity - max(prompt, gen))
        var results: [BenchResult] = []
        do {
            for depth in depths {
                results.append(try Benchmark.run(model: model, promptTokens: prompt, genTokens: gen, repetitions: reps,
                                                 depth: depth, shouldStop: { session.interrupt.isSet }))
            }
        } catch { throw CommandError(error) }
        loaded.forgetConversation()
        // After the runs, so the probe's buffer doesn't count in their peak memory.
        let bandwidth = BenchCommand.bandwidth(session: session, threads: model.compute.threads)
        let roofline = bandwidth / Double(model.weightBytes)
        let console = session.console
        let result = results[0]
        if prompt > 0 { session.figures["pp_tps"] = BenchResult.median(result.prefill) }
        if gen > 0 { session.figures["tg_tps"] = BenchResult.median(result.decode) }
        session.figures["peak_mib"] = Double(results.map(\.peakResidentBytes).max() ?? 0) / 1_048_576
        session.figures["weights_mib"] = Double(result.weightBytes) / 1_048_576
        session.figures["roofline_share"] = gen > 0 ? BenchResult.median(result.decode) / roofline : 0
        if args.json {
            let outputs = results.map { Output(result: $0, bandwidth_bytes_per_s: bandwidth, roofline_decode_tokens_per_s: roofline) }
            if outputs.count == 1 { console.line(try JSONText.encode(outputs[0])) } else {
                struct Depths: Codable { var depths: [Output] }
                console.line(try JSONText.encode(Depths(depths: outputs)))
            }
            return
        }
        let weights = loaded.weightSet.map { "\($0.requested.name) (in memory)" } ?? "\(model.config.fileType ?? "?") (file)"
        var t = Table(["model", "weights", "size", "threads", "test", "tok/s"])
        let size = TextUtil.bytes(result.weightBytes)
        for r in results {
            let at = r.depth > 0 ? " @ d\(r.depth)" : ""
            if prompt > 0 {
                t.add([loaded.name, weights, size, "\(r.threads)", "pp\(prompt)\(at)",
                       String(format: "%.1f ± %.1f", BenchResult.median(r.prefill), BenchResult.spread(r.prefill))])
            }
            if gen > 0 {
                t.add([loaded.name, weights, size, "\(r.threads)", "tg\(gen)\(at)",
                       String(format: "%.1f ± %.1f", BenchResult.median(r.decode), BenchResult.spread(r.decode))])
            }
        }
        console.line(t.render(console: console))
        console.line("peak memory \(TextUtil.bytes(results.map(\.peakResidentBytes).max() ?? 0)) · median of \(reps) runs after a warm-up")
        if results.count > 1 && gen > 0 {
            console.line("decode tok/s as the context fills: "
                         + results.map { String(format: "d%d %.1f", $0.depth, BenchResult.median($0.decode)) }.joined(separator: " · "))
        }
        if gen > 0 {
            let share = BenchResult.median(result.decode) / roofline
            console.line(String(format: "decode roofline: %.1f GB/s read bandwidth ÷ %@ of weights per token = %.0f tok/s; measured is %.0f%% of it",
                                bandwidth / 1e9, TextUtil.bytes(result.weightBytes), roofline, share * 100))
            console.line("  " + Charts.bar(share, max: 1, width: 40) + String(format: " %.0f%%", share * 100))
        }
    }

    /// `--depth 0,512,2048` → [0, 512, 2048], each checked against the context left.
    static func depths(_ option: String?, fitting room: Int) throws -> [Int] {
        guard let option else { return [0] }
        let parts = option.split(separator: ",", omittingEmptySubsequences: false)
        return try parts.map { part in
            guard let d = Int(part.trimmingCharacters(in: .whitespaces)), d >= 0 else {
                throw CommandError.usage("--depth takes context lengths like 0,512,2048, got '\(TextUtil.sanitize(String(part)))'")
            }
            guard d <= room else { throw CommandError.usage("depth \(d) leaves no room in the \(room)-token context for the test") }
            return d
        }
    }

    /// Measured once per thread count and kept in the lab's state folder.
    static func bandwidth(session: Session, threads: Int) -> Double {
        let file = session.home.appendingPathComponent("bandwidth-\(threads)t.txt")
        if let text = try? String(contentsOf: file, encoding: .utf8),
           let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), v > 0 { return v }
        session.console.note("measuring memory bandwidth once (kept in \(file.path))…")
        let v = MemoryBandwidth.measure(threads: threads)
        try? AtomicWrite.write(Data(String(v).utf8), to: file)
        return v
    }
}
