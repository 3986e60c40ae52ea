import Foundation
import LMEngine

/// `train-tokenizer FILE --vocab N`: learns a byte-level BPE vocabulary from a
/// text file and writes it as a vocabulary-only GGUF (the tokenizer keys, no
/// tensors) that the engine's BPE tokenizer reads, and that a recipe can name
/// with `"tokenizer": {"kind": "gguf", "file": …}`.
struct TrainTokenizerCommand: Command {
    let name = "train-tokenizer"
    let topic = Topic.train
    let summary = "learn a byte-level BPE vocabulary from a text file"
    let usage = "train-tokenizer FILE --vocab N [--out FILE.gguf]"
    let positionals: ClosedRange<Int>? = 1...1
    let examples = ["train-tokenizer models/data/tiny-stories-corpus.txt --vocab 512"]
    let flags = [
        Arguments.Flag("vocab", value: "N", "tokens in the vocabulary, 257 or more (256 bytes + <|endoftext|> + merges)"),
        Arguments.Flag("out", value: "FILE", "where the vocabulary goes (default: FILE with .tokenizer.gguf)"),
    ]

    func run(_ args: Arguments, session: Session) throws {
        let path = args.positionals[0]
        guard let size: Int = try args.number("vocab", in: 257...65_536) else {
            throw CommandError.usage("how many tokens? add --vocab N (257 or more)")
        }
        let input = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        guard let data = FileManager.default.contents(atPath: input.path) else {
            throw CommandError.failed("can't read '\(TextUtil.sanitize(path))'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandError.failed("'\(TextUtil.sanitize(path))' is not UTF-8 text")
        }
        let out = args.options["out"].map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
            ?? input.deletingPathExtension().appendingPathExtension("tokenizer.gguf")
        let console = session.console
        let start = Date()
        let bar = ProgressBar(label: "merges", total: Double(size - 257), unit: "merges", console: console)
        let vocabulary: TrainingVocabulary
        do {
            vocabulary = try BPETrainer.train(text: text, size: size, progress: { done, _ in bar.update(Double(done - 257)) },
                                              shouldStop: { session.interrupt.isSet })
        } catch {
            console.line("")
            throw CommandError(error)
        }
        bar.finish(Double(vocabulary.count - 257))
        var w = GGUFWriter()
        w.set("general.name", .string(input.deletingPathExtension().lastPathComponent + " tokenizer"))
        for (k, v) in vocabulary.metadata() { w.set(k, v) }
        do { try w.writeAtomically(to: out) } catch { throw CommandError.failed("can't write \(out.path): \(TextUtil.reason(for: error))") }

        // How much the merges compress this very text, as the engine's tokenizer encodes it.
        let tokenizer = try vocabulary.makeTokenizer()
        let sample = String(text.prefix(200_000))
        let tokens = tokenizer.encode(sample, addBOS: false, parseSpecial: true).count
        console.line(String(format: "learned %d tokens (%d merges) in %.1f s → %@", vocabulary.count, vocabulary.merges.count,
                            Date().timeIntervalSince(start), out.path))
        if vocabulary.count < size {
            console.line("stopped at \(vocabulary.count): no pair of tokens occurs twice any more in this text")
        }
        console.line(String(format: "%.2f bytes per token on the text (1.00 would be bytes alone)",
                            Double(sample.utf8.count) / Double(max(1, tokens))))
        let longest = vocabulary.tokens.dropFirst(257).sorted { $0.count > $1.count }.prefix(8)
            .map { "'" + TextUtil.sanitize(tokenizer.piece(Int32(vocabulary.tokens.firstIndex(of: $0)!))) + "'" }
        if !longest.isEmpty { console.line("longest tokens: " + longest.joined(separator: " ")) }
    }
}
