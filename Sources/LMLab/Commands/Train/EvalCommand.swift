import Foundation
import LMEngine

/// `eval MODEL --task arithmetic`: exact-match accuracy on held-out a+b / a−b
/// problems. MODEL is loaded by name or path just for this (the session's loaded
/// model stays as it is); without MODEL the loaded model is evaluated.
struct EvalCommand: Command {
    let name = "eval"
    let topic = Topic.train
    let summary = "exact-match accuracy of a model on held-out arithmetic (a+b, a−b)"
    let usage = "eval [MODEL] --task arithmetic [--count N] [--shots K] [--show N] [--json]"
    let positionals: ClosedRange<Int>? = 0...1
    let examples = ["eval tiny-math --task arithmetic", "eval smollm2 --task arithmetic --count 50",
                    "eval gemma3 --task arithmetic --shots 5"]
    let flags = [
        Arguments.Flag("task", value: "NAME", "the task: arithmetic"),
        Arguments.Flag("count", value: "N", "how many held-out problems (default 200, at most 2000)"),
        Arguments.Flag("shots", value: "K", "solved examples before each problem (default: 0 for lmlab-trained models, 5 otherwise)"),
        Arguments.Flag("show", value: "N", "list N of the wrong answers (default 5)"),
        Arguments.Flag.json("with the figures and every answer"),
    ]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? ModelLocator.candidates(home: session.home) : []
    }

    func run(_ args: Arguments, session: Session) throws {
        guard args.options["task"] == "arithmetic" else {
            throw CommandError.usage(args.options["task"] == nil ? "which task? try: eval MODEL --task arithmetic"
                                     : "unknown task '\(TextUtil.sanitize(args.options["task"]!))' (known: arithmetic)")
        }
        let count: Int = try args.number("count", in: 1...2000) ?? 200
        let show: Int = try args.number("show", in: 0...2000) ?? 5
        let console = session.console
        let modelName: String
        let model: DecoderModel
        if let word = args.positional(0) {
            let (name, url) = try ModelLocator.resolve(word, home: session.home)
            do { model = try ModelLoader.load(url: url, contextLength: 512, threads: session.settings.int("threads")) } catch let e as CustomStringConvertible where e is Error {
                throw CommandError.failed("can't load '\(TextUtil.sanitize(url.lastPathComponent))': \(e.description)")
            }
            modelName = name
        } else {
            let loaded = try session.requireModel()
            model = loaded.model
            modelName = loaded.name
        }
        let trainedHere = model.gguf.metadata["lmlab.training.steps"] != nil
        let shots: Int = try args.number("shots", in: 0...50) ?? (trainedHere ? 0 : 5)
        let evaluation = ArithmeticEvaluation(count: count, shots: shots)
        let json = args.json
        var bar: ProgressBar?
        if !json, console.isTerminal || count >= 50 {
            bar = ProgressBar(label: "eval", total: Double(count), unit: "problems", console: console)
        }
        let result = try evaluation.run(model: model, shouldStop: { session.interrupt.isSet }) { done, _ in bar?.update(Double(done)) }
        if session.interrupt.isSet {
            console.line("")
            throw CommandError.interrupted
        }
        bar?.finish(Double(result.items.count))
        session.figures["exact_match_pct"] = result.accuracy * 100
        session.figures["problems"] = Double(result.items.count)
        session.figures["shots"] = Double(shots)
        if json {
            struct Report: Encodable {
                let model: String, task: String, shots: Int, count: Int, correct: Int, accuracy: Double, seconds: Double
                let items: [ArithmeticEvaluation.Item]
            }
            console.line(try JSONText.encode(Report(model: modelName, task: "arithmetic", shots: shots, count: result.items.count,
                                                    correct: result.correct, accuracy: result.accuracy, seconds: result.seconds,
                                                    items: result.items)))
            return
        }
        console.line(String(format: "%@ on arithmetic: %@ exact match (%d of %d held-out problems), %@, greedy, in %.1f s",
                            modelName, console.styled(String(format: "%.1f%%", result.accuracy * 100), .bold),
                            result.correct, result.items.count,
                            shots == 0 ? "zero-shot" : "\(shots)-shot", result.seconds))
        let wrong = result.items.filter { !$0.correct }.prefix(show)
        if !wrong.isEmpty {
            var t = Table(["prompt", "expected", "reply"])
            for w in wrong { t.add([w.prompt, w.answer, TextUtil.sanitize(w.reply.split(separator: "\n").first.map(String.init) ?? "")]) }
            console.line("wrong answers, first \(wrong.count):")
            console.line(t.render(console: console))
        }
    }
}
