import Foundation
import LMEngine

/// `distill TEACHER --prompts FILE --tokens N --out FILE`: has a teacher model
/// write a training corpus. Each prompt line (cycled, as a chat message when the
/// teacher has a chat template) yields one document, sampled with seed + document
/// index, so the corpus is reproducible. Documents are appended whole, separated
/// by `<|endoftext|>` lines; running the same command again continues the file.
/// `--workers N` has N copies of the teacher (one thread each, the weights mapped
/// once) write documents side by side; they are written in index order, so the
/// corpus is the same file byte for byte whatever N is.
struct DistillCommand: Command {
    let name = "distill"
    let topic = Topic.train
    let summary = "generate a training corpus with a teacher model (seeded, resumable)"
    let usage = "distill TEACHER --prompts FILE --tokens N --out FILE [--seed S] [--temp T] [--repeat-penalty P] [--max N] [--workers N]"
    let positionals: ClosedRange<Int>? = 1...1
    let examples = ["distill smollm2 --prompts models/data/story-prompts.txt --tokens 20000 --out stories.txt"]
    let flags = [
        Arguments.Flag("prompts", value: "FILE", "one prompt per line (blank lines and # comments skipped)"),
        Arguments.Flag("tokens", value: "N", "stop once the corpus holds N teacher tokens"),
        Arguments.Flag("out", value: "FILE", "the corpus file (continued if it exists)"),
        Arguments.Flag("fresh", "start the corpus over instead of continuing it"),
        Arguments.Flag("seed", value: "S", "base seed; document i uses S + i (default 1)"),
        Arguments.Flag("temp", value: "T", "sampling temperature (default 0.8)"),
        Arguments.Flag("repeat-penalty", value: "P", "penalty on recently used tokens (default 1.1: small teachers loop)"),
        Arguments.Flag("max", value: "N", "tokens per document at most (default 300)"),
        Arguments.Flag("workers", value: "N", "teachers writing side by side, one thread each (default 1; same corpus)"),
    ]
    static let separator = "\n" + TrainingVocabulary.endOfTextText + "\n"

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? ModelLocator.candidates(home: session.home) : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let teacherName = args.positionals[0]
        guard let promptsPath = args.options["prompts"] else { throw CommandError.usage("which prompts? add --prompts FILE") }
        guard let outPath = args.options["out"] else { throw CommandError.usage("where to? add --out FILE") }
        guard let target: Int = try args.number("tokens", in: 1...100_000_000) else {
            throw CommandError.usage("how many tokens? add --tokens N")
        }
        let seed: Int = try args.number("seed", in: 0...Int(UInt32.max)) ?? 1
        let temperature: Double = try args.number("temp", in: 0...5) ?? 0.8
        let repeatPenalty: Double = try args.number("repeat-penalty", in: 0.5...2) ?? 1.1
        let maxPerDocument: Int = try args.number("max", in: 8...4096) ?? 300
        let workerCount: Int = try args.number("workers", in: 1...16) ?? 1
        guard let promptText = try? String(contentsOfFile: (promptsPath as NSString).expandingTildeInPath, encoding: .utf8) else {
            throw CommandError.failed("can't read the prompts '\(TextUtil.sanitize(promptsPath))'")
        }
        let prompts = promptText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !prompts.isEmpty else { throw CommandError.failed("'\(TextUtil.sanitize(promptsPath))' has no prompts") }

        let (name, url) = try ModelLocator.resolve(teacherName, home: session.home)
        // One copy of the teacher per worker, for its own KV cache and buffers (the weights are
        // mapped once; the tokenizer is safe to share). With one worker it keeps the session's
        // thread count; with several, one thread each.
        let teachers: [DecoderModel]
        do {
            let threads = workerCount == 1 ? session.settings.int("threads") : 1
            teachers = try (0..<workerCount).map { _ in try ModelLoader.load(url: url, contextLength: 1024, threads: threads) }
        } catch let e as CustomStringConvertible where e is Error {
            throw CommandError.failed("can't load '\(TextUtil.sanitize(url.lastPathComponent))': \(e.description)")
        }
        let model = teachers[0]
        let template = ChatTemplate.detect(from: model.gguf)
        let tokenizer = model.tokenizer

        // What is already there: whole documents only (a cut-off tail is dropped).
        let out = LabPath.url(outPath, home: session.home)
        var existing = args.flag("fresh") ? "" : (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        if !existing.isEmpty, !existing.hasSuffix(DistillCommand.separator) {
            existing = existing.range(of: DistillCommand.separator, options: .backwards).map { String(existing[..<$0.upperBound]) } ?? ""
        }
        let documents = existing.components(separatedBy: DistillCommand.separator).dropLast()
        var tokens = documents.reduce(0) { $0 + tokenizer.encode($1, addBOS: false, parseSpecial: false).count }
        let handle: FileHandle
        do {
            // Atomically: a full disk while rewriting must not cut the corpus already there.
            try AtomicWrite.write(Data(existing.utf8), to: out)
            handle = try FileHandle(forWritingTo: out)
        } catch {
            throw CommandError.failed("can't write \(out.path): \(TextUtil.reason(for: error))")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()

        let console = session.console
        var index = documents.count
        if index > 0 { console.line("continuing \(out.path): \(index) documents, \(TextUtil.grouped(tokens)) tokens so far") }
        console.line("teacher \(name), \(prompts.count) prompts, temperature \(temperature), repeat penalty \(repeatPenalty), seed \(seed)"
                     + (workerCount > 1 ? ", \(workerCount) workers" : "")
                     + (template == nil ? " (no chat template: prompts are continued as text)" : ""))

        // Document i: prompt i mod P, seed S + i. Nil when it was interrupted.
        let writeDocument = { (teacher: DecoderModel, i: Int, stop: () -> Bool) throws -> String? in
            let prompt = prompts[i % prompts.count]
            let text = template?.render([.user(prompt)]) ?? prompt
            let ids = teacher.tokenizer.encode(text, addBOS: teacher.tokenizer.addsBOS, parseSpecial: template != nil)
            let sampler = Sampler(SamplerSettings(temperature: Float(temperature), repeatPenalty: Float(repeatPenalty),
                                                    seed: UInt64(seed + i)))
            let (generated, stats) = try Generator(model: teacher).generate(prompt: ids, maxTokens: maxPerDocument, sampler: sampler,
                                                                            shouldStop: stop) { _, _ in }
            if stats.stopReason == .interrupted { return nil }
            return DistillCommand.tidy(teacher.tokenizer.decode(generated), cut: stats.stopReason != .endOfText)
        }
        let queue = DocumentQueue(teachers: teachers, first: index, interrupt: session.interrupt, write: writeDocument)
        defer { queue.finish() }

        // The bar counts this run's tokens, so its rate and ETA are this run's too.
        let already = tokens
        let bar = ProgressBar(label: "distill", total: Double(max(0, target - already)), unit: "tokens", console: console)
        while tokens < target {
            guard let document = try queue.next() else { break }   // nil: interrupted
            index += 1
            guard !document.isEmpty else { continue }
            // A document cut short by a full disk is dropped by the next run, like any cut-off tail.
            do { try handle.write(contentsOf: Data((document + DistillCommand.separator).utf8)) } catch {
                throw CommandError.failed("can't write \(out.path): \(TextUtil.reason(for: error))")
            }
            tokens += tokenizer.encode(document, addBOS: false, parseSpecial: false).count
            bar.update(Double(tokens - already))
        }
        if session.interrupt.isSet {
            console.line("")
            console.line("stopped after \(index) documents (\(TextUtil.grouped(tokens)) tokens); run the same command to continue")
            throw CommandError.interrupted
        }
        bar.finish(Double(tokens - already))
        console.line("wrote \(out.path): \(index) documents, \(TextUtil.grouped(tokens)) tokens")
    }

    /// Trims a document; one cut off by the length limit ends at its last full sentence.
    static func tidy(_ text: String, cut: Bool) -> String {
        var t = text.replacingOccurrences(of: TrainingVocabulary.endOfTextText, with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if cut, let end = t.lastIndex(where: { ".!?\"".contains($0) }) { t = String(t[...end]) }
        return t
    }
}

/// Hands out document indices first, first+1, … to one thread per teacher and gives
/// the documents back in index order. With one teacher it runs on the caller's thread.
/// Documents written past the point where the caller stops are thrown away.
private final class DocumentQueue: @unchecked Sendable {
    typealias Write = (DecoderModel, Int, () -> Bool) throws -> String?
    private let teachers: [DecoderModel]
    private let interrupt: Interrupt
    private let write: Write
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var nextToClaim: Int
    private var nextToReturn: Int
    private var done: [Int: Result<String?, Error>] = [:]
    private var stopping = false
    private var running = 0

    init(teachers: [DecoderModel], first: Int, interrupt: Interrupt, write: @escaping Write) {
        self.teachers = teachers
        self.interrupt = interrupt
        self.write = write
        nextToClaim = first
        nextToReturn = first
        guard teachers.count > 1 else { return }
        running = teachers.count
        for (k, teacher) in teachers.enumerated() {
            let thread = Thread { [self] in work(teacher) }
            thread.name = "distill-worker-\(k)"
            thread.start()
        }
    }

    /// The next document in index order; nil when interrupted.
    func next() throws -> String? {
        if teachers.count == 1 {
            defer { nextToReturn += 1 }
            return try write(teachers[0], nextToReturn, { interrupt.isSet })
        }
        condition.lock()
        defer { condition.unlock() }
        while done[nextToReturn] == nil { condition.wait() }
        let result = done.removeValue(forKey: nextToReturn)!
        nextToReturn += 1
        condition.broadcast()   // a worker may be waiting for room
        return try result.get()
    }

    /// Stops the workers and waits for them (their teachers' caches are theirs until then).
    func finish() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func work(_ teacher: DecoderModel) {
        let stop = { [self] in interrupt.isSet || isStopping }
        condition.lock()
        while !stopping {
            // At most one document per teacher ahead of the one the caller waits for.
            if nextToClaim - nextToReturn >= teachers.count { condition.wait(); continue }
            let i = nextToClaim
            nextToClaim += 1
            condition.unlock()
            let result = Result { try write(teacher, i, stop) }
            condition.lock()
            // An interrupted document ends the queue: the caller sees nil at that index.
            done[i] = result
            if case .success(nil) = result { stopping = true }
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }
}
