import Foundation
import LMEngine

/// `kld FILE`: how far the current weights' predictions moved from the f32
/// reference of the same model (mean KL divergence, same top token).
struct KldCommand: Command {
    let name = "kld"
    let topic = Topic.evaluate
    let summary = "KL divergence and top-token agreement of the current weights against the f32 reference"
    let usage = "kld [FILE] [--context N] [--chunks N] [--json]   (default text: data/eval-prose.txt)"
    let positionals: ClosedRange<Int>? = 0...1
    let examples = ["quant q4_0", "kld alice.txt --chunks 8"]
    let flags = [
        Arguments.Flag("context", value: "N", "tokens per chunk (default 256)"),
        Arguments.Flag("chunks", value: "N", "score only the first N chunks"),
        Arguments.Flag.json("with the figures"),
    ]

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let (text, _) = try EvalText.read(args.positional(0))
        let context: Int = try args.number("context", in: 8...loaded.model.cache.capacity) ?? min(256, loaded.model.cache.capacity)
        let chunks: Int? = try args.number("chunks", in: 1...1_000_000)
        let console = session.console
        let stop = { session.interrupt.isSet }
        let result: KLDResult
        do {
            let reference = try loaded.reference(shouldStop: stop)
            var bar: ProgressBar?
            let started = Date().timeIntervalSinceReferenceDate
            result = try KLDivergence.measure(model: loaded.model, reference: reference, candidate: loaded.weightSet,
                                              text: text, context: context, maxChunks: chunks, shouldStop: stop) { done, total in
                if args.json { return }
                if bar == nil { bar = ProgressBar(label: "kld", total: Double(total), unit: "chunks", console: console, startedAt: started) }
                bar?.update(Double(done))
            }
            bar?.finish(Double(result.chunks))
        } catch {
            throw CommandError(error)
        }
        loaded.model.reset()
        loaded.forgetConversation()
        session.figures["kld"] = result.meanKLD
        session.figures["same_top_pct"] = result.sameTop * 100
        session.figures["ppl"] = result.perplexity
        session.figures["reference_ppl"] = result.referencePerplexity
        if args.json { console.line(try JSONText.encode(result)); return }
        let weights = loaded.weightSet.map { $0.requested.name } ?? "the file's weights"
        console.line(String(format: "%@ vs f32: mean KLD %.4f ± %.4f · same top %.2f%% · PPL %.3f (f32 %.3f) · %d chunk%@ in %.1f s",
                            weights, result.meanKLD, result.standardError, result.sameTop * 100, result.perplexity,
                            result.referencePerplexity, result.chunks, result.chunks == 1 ? "" : "s", result.seconds))
    }
}
