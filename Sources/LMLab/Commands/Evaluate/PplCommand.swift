import Foundation
import LMEngine

/// `ppl FILE`: perplexity of the loaded model on a text, the llama-perplexity way.
struct PplCommand: Command {
    let name = "ppl"
    let aliases = ["perplexity"]
    let topic = Topic.evaluate
    let summary = "perplexity on a text file (llama-perplexity's protocol: context 256, second half scored)"
    let usage = "ppl [FILE] [--context N] [--chunks N] [--json]   (default text: data/eval-prose.txt)"
    let positionals: ClosedRange<Int>? = 0...1
    let examples = ["ppl alice.txt", "ppl alice.txt --chunks 4", "ppl alice.txt --json"]
    let flags = [
        Arguments.Flag("context", value: "N", "tokens per chunk (default 256)"),
        Arguments.Flag("chunks", value: "N", "score only the first N chunks"),
        Arguments.Flag.json("with the figures"),
    ]

    func complete(_ previous: [String], session: Session) -> [String] {
        guard previous.isEmpty else { return [] }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: ".")) ?? []
        return files.filter { $0.hasSuffix(".txt") || $0.hasSuffix(".md") }.sorted()
    }

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let (text, _) = try EvalText.read(args.positional(0))
        let context: Int = try args.number("context", in: 8...loaded.model.cache.capacity) ?? min(256, loaded.model.cache.capacity)
        let chunks: Int? = try args.number("chunks", in: 1...1_000_000)
        let json = args.json
        let console = session.console
        var bar: ProgressBar?
        let started = Date().timeIntervalSinceReferenceDate
        let result: PerplexityResult
        do {
            result = try Perplexity.measure(model: loaded.model, text: text, context: context, maxChunks: chunks,
                                            shouldStop: { session.interrupt.isSet }) { done, total, _ in
                if json { return }
                if bar == nil {
                    bar = ProgressBar(label: "ppl", total: Double(total), unit: "chunks", console: console, startedAt: started)
                }
                bar?.update(Double(done))
            }
        } catch {
            loaded.model.reset()
            throw CommandError(error)
        }
        loaded.model.reset()
        loaded.forgetConversation()
        session.figures["ppl"] = result.perplexity
        if json {
            console.line(try JSONText.encode(result))
            return
        }
        bar?.finish(Double(result.chunks))
        console.line(String(format: "PPL = %.4f ± %.4f over %d chunk%@ of %d tokens (%@ scored of %@) in %.1f s",
                            result.perplexity, result.standardError, result.chunks, result.chunks == 1 ? "" : "s", context,
                            TextUtil.grouped(result.scoredTokens), TextUtil.grouped(result.textTokens), result.seconds))
        console.line("running PPL by chunk: " + Charts.sparkline(result.runningPerplexity))
    }
}
