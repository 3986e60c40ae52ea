import Foundation
import LMEngine

/// `train RECIPE`: trains a model from a JSON recipe with live loss curves, then
/// exports it as a GGUF the lab loads like any other model. Ctrl-C stops after the
/// current step and saves a checkpoint that `--resume` continues from.
struct TrainCommand: Command {
    let name = "train"
    let topic = Topic.train
    let summary = "train a tiny model from a recipe (live loss, Ctrl-C saves a checkpoint)"
    let usage = "train RECIPE.json [--steps N] [--out FILE.gguf] [--resume]"
    let positionals: ClosedRange<Int>? = 1...1
    let examples = ["train models/recipes/tiny-math-short.json", "train models/recipes/tiny-math.json --resume",
                    "train models/recipes/tiny-stories-short.json --out /tmp/stories.gguf"]
    let flags = [
        Arguments.Flag("steps", value: "N", "train for N steps instead of the recipe's (the schedule shrinks to fit)"),
        Arguments.Flag("out", value: "FILE", "where the GGUF goes (default: the recipe's output)"),
        Arguments.Flag("corpus", value: "FILE", "train on this text file instead of the recipe's (text recipes; e.g. what distill wrote)"),
        Arguments.Flag("resume", "continue from the recipe's checkpoint"),
    ]

    func complete(_ previous: [String], session: Session) -> [String] {
        guard previous.isEmpty else { return [] }
        let folder = "models/recipes"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { folder + "/" + $0 }.sorted()
    }

    /// Where a recipe's checkpoint lives: $LMLAB_HOME/checkpoints/NAME.ckpt.
    static func checkpointURL(_ recipe: TrainingRecipe, home: URL) -> URL {
        LabPath.checkpoints(home: home).appendingPathComponent("\(recipe.name).ckpt")
    }

    func run(_ args: Arguments, session: Session) throws {
        let path = args.positionals[0]
        var recipe: TrainingRecipe
        do { recipe = try TrainingRecipe.load(URL(fileURLWithPath: (path as NSString).expandingTildeInPath)) } catch let e as TrainingError {
            throw CommandError.failed(e.description)
        }
        if let steps: Int = try args.number("steps", in: 1...10_000_000) { recipe.training.steps = steps }
        if let corpus = args.options["corpus"] {
            guard recipe.data.kind == "text" else { throw CommandError.usage("--corpus is for text recipes; \(recipe.name) generates \(recipe.data.kind) data") }
            let url = LabPath.url(corpus, home: session.home)
            guard FileManager.default.fileExists(atPath: url.path) else { throw CommandError.failed("no corpus at '\(TextUtil.sanitize(corpus))'") }
            recipe.data.file = url.path   // absolute: the recipe resolves relative names against its own folder
        }
        let out = args.options["out"].map { LabPath.url($0, home: session.home) } ?? recipe.outputURL
        let console = session.console
        let trainer: Trainer
        do { trainer = try Trainer(recipe: recipe) { console.line($0) } } catch let e as TrainingError {
            throw CommandError.failed(e.description)
        }
        let checkpoint = TrainCommand.checkpointURL(recipe, home: session.home)
        if args.flag("resume") {
            do { try trainer.resume(from: checkpoint) } catch let e as TrainingError { throw CommandError.failed(e.description) }
            console.line("resumed \(recipe.name) at step \(trainer.step) from \(checkpoint.path)")
        }
        printHeader(trainer, console: console)
        let prompts = recipe.samplePrompts ?? []
        if trainer.step == 0, !prompts.isEmpty {
            console.line(console.styled("before training:", .bold))
            try printSamples(trainer, prompts, console: console)
        }

        let total = recipe.training.steps
        let evalEvery = max(1, recipe.training.evalEvery ?? max(1, total / 20))
        let start = Date()
        let firstStep = trainer.step
        var lastDraw = Date.distantPast
        if trainer.validationLosses.isEmpty { trainer.measureValidation() }
        while !trainer.isFinished {
            if session.interrupt.isSet {
                if console.isTerminal { console.write("\n") }
                try saveCheckpoint(trainer, to: checkpoint)
                console.line("stopped at step \(trainer.step) of \(total); checkpoint saved to \(checkpoint.path)")
                console.line("continue with: train \(path) --resume")
                throw CommandError.interrupted
            }
            trainer.trainStep()
            let measured = trainer.step % evalEvery == 0 || trainer.isFinished
            if measured { trainer.measureValidation() }
            let seconds = Date().timeIntervalSince(start)
            let line = status(trainer, total: total, seconds: seconds, stepsDone: trainer.step - firstStep, console: console)
            if console.isTerminal {
                if Date().timeIntervalSince(lastDraw) > 0.2 || trainer.isFinished {
                    console.write("\r\u{1B}[2K" + line)
                    lastDraw = Date()
                }
            } else if measured {
                console.line(line)
            }
        }
        if console.isTerminal { console.write("\n") }
        let seconds = Date().timeIntervalSince(start)
        try saveCheckpoint(trainer, to: checkpoint)
        do { try trainer.export(to: out) } catch { throw CommandError.failed("can't write \(out.path): \(TextUtil.reason(for: error))") }
        let validation = trainer.validationLosses.last?.loss ?? .nan
        session.figures["final_loss"] = finalLoss(trainer)
        session.figures["first_loss"] = trainer.trainLosses.first ?? .nan
        session.figures["validation_loss"] = validation
        console.line(String(format: "trained %@: %d steps in %@, final loss %.4f (mean of the last %d steps), validation loss %.4f",
                            recipe.name, trainer.step, TextUtil.clock(seconds), finalLoss(trainer), min(20, trainer.step), validation))
        console.line("loss curve: " + Charts.sparkline(binned(trainer.trainLosses, into: 40)))
        console.line("wrote \(out.path) (\(TextUtil.bytes(fileSize(out)))); load it with: load \(out.path)")
        if !prompts.isEmpty {
            console.line(console.styled("after training:", .bold))
            try printSamples(trainer, prompts, console: console)
        }
    }

    func saveCheckpoint(_ trainer: Trainer, to url: URL) throws {
        do { try trainer.saveCheckpoint(to: url) } catch {
            throw CommandError.failed("can't save the checkpoint \(url.path): \(TextUtil.reason(for: error))")
        }
    }

    /// The mean of the last 20 training losses: steadier than one step's, and what
    /// the model card's "final loss" means.
    func finalLoss(_ t: Trainer) -> Double {
        let tail = t.trainLosses.suffix(20)
        return tail.isEmpty ? .nan : tail.reduce(0, +) / Double(tail.count)
    }

    func printHeader(_ t: Trainer, console: Console) {
        let s = t.shape, r = t.recipe
        console.line(console.styled("train \(r.name)", .bold) + (r.about.map { " — " + $0 } ?? ""))
        console.line("  data: \(t.data.summary)")
        console.line("  model: llama, \(s.layers) layers, width \(s.embedding), \(s.heads) heads, feed-forward \(s.feedForward), "
                     + "context \(s.context), vocabulary \(s.vocabulary) — \(TextUtil.grouped(t.parameterCount)) parameters")
        console.line(String(format: "  schedule: %d steps × %d sequences (%@ tokens/step), lr %.2g → %.2g, warm-up %d, seed %llu",
                            r.training.steps, r.training.batch, TextUtil.grouped(t.tokensPerStep), r.schedule.peak,
                            r.schedule.floor, r.schedule.warmup, r.training.seed))
    }

    func printSamples(_ t: Trainer, _ prompts: [String], console: Console) throws {
        for p in prompts {
            let text = try t.sample(p, maxTokens: min(t.shape.context - 1, 120))
            let shown = TextUtil.sanitize(text, keepNewlines: true).replacingOccurrences(of: "\n", with: "\n    ")
            console.line("  " + console.styled(TextUtil.sanitize(p), .dim) + shown)
        }
    }

    func status(_ t: Trainer, total: Int, seconds: Double, stepsDone: Int, console: Console) -> String {
        let perStep = stepsDone > 0 ? seconds / Double(stepsDone) : 0
        let eta = perStep * Double(total - t.step)
        let tokensPerSecond = perStep > 0 ? Double(t.tokensPerStep) / perStep : 0
        let loss = t.trainLosses.suffix(10).reduce(0, +) / Double(max(1, min(10, t.trainLosses.count)))
        let val = t.validationLosses.last?.loss ?? .nan
        let bar = Charts.bar(Double(t.step), max: Double(total), width: 12)
        return String(format: "step %d/%d %@%@ loss %.3f %@ val %.3f %@ %@ tok/s ETA %@",
                      t.step, total, bar, String(repeating: " ", count: max(0, 12 - TextUtil.displayWidth(bar))),
                      loss, Charts.sparkline(binned(t.trainLosses, into: 16)), val,
                      Charts.sparkline(Array(t.validationLosses.map(\.loss).suffix(12))),
                      TextUtil.count(Int(tokensPerSecond)), TextUtil.clock(eta))
    }

    /// Averages `values` into at most `count` bins, so a long history fits in a sparkline.
    func binned(_ values: [Double], into count: Int) -> [Double] {
        guard values.count > count else { return values }
        return (0..<count).map { b in
            let slice = values[(values.count * b / count)..<(values.count * (b + 1) / count)]
            return slice.reduce(0, +) / Double(max(1, slice.count))
        }
    }

    func fileSize(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0
    }
}
