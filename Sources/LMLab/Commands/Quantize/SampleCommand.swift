import Foundation
import LMEngine

/// `sample PROMPT`: the greedy continuation at several weight types, one line
/// each, with where each one leaves the f32 reference's text marked.
struct SampleCommand: Command {
    let name = "sample"
    let topic = Topic.quantize
    let summary = "the same greedy continuation at several weight types, differences from f32 highlighted"
    let usage = "sample PROMPT [--types T1,T2,…] [--max N]"
    let examples = ["sample The capital of France is", "sample Once upon a time --types f32,q4_0,q2_k --max 24"]
    let flags = [
        Arguments.Flag("types", value: "LIST", "comma-separated types (default: f32,q8_0,q4_0,q3_k,q2_k and the file's own)"),
        Arguments.Flag("max", value: "N", "tokens to generate (default 20)"),
    ]

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let prompt = args.text
        guard !prompt.isEmpty else { throw CommandError.usage("sample needs a prompt, e.g. sample The capital of France is") }
        let maxTokens: Int = try args.number("max", in: 1...512) ?? 20
        let words = (args.options["types"] ?? "f32,file,q8_0,q4_0,q3_k,q2_k").lowercased().split(separator: ",").map(String.init)
        let types = try words.map { try QuantCommand.parseType($0, allowFile: true) }
        let model = loaded.model
        let stop = { session.interrupt.isSet }
        let reference: WeightSet
        do { reference = try loaded.reference(shouldStop: stop) } catch { throw CommandError(error) }
        defer { model.use(nil); loaded.weightSet = nil }
        func continuation(_ set: WeightSet?) throws -> (ids: [Int32], pieces: [String], text: String) {
            model.use(set)
            return try QuantLadder.greedy(model: model, prompt: prompt, tokens: maxTokens, shouldStop: stop)
        }
        let console = session.console
        do {
            let base = try continuation(reference)
            console.line("greedy continuations of \"\(TextUtil.sanitize(prompt))\"; " + (console.useColor
                ? "red from the first token that differs from f32"
                : "[brackets] from the first token that differs from f32"))
            let labelWidth = max(8, words.map { $0 == "file" ? 4 + (model.config.fileType?.count ?? 1) + 3 : $0.count }.max() ?? 0)
            for (word, type) in zip(words, types) {
                let out: (ids: [Int32], pieces: [String], text: String)
                if type == .f32 { out = base } else {
                    let set = try type.map { try WeightSet(model: model, type: $0, outputRule: true, shouldStop: stop) }
                    out = try continuation(set)
                }
                let same = zip(out.ids, base.ids).prefix { $0 == $1 }.count
                let agreed = out.pieces.prefix(same).joined(), rest = out.pieces.dropFirst(same).joined()
                let marked = rest.isEmpty ? "" : (console.useColor ? console.styled(SampleCommand.oneLine(rest), .red)
                                                                   : "[" + SampleCommand.oneLine(rest) + "]")
                let label = word == "file" ? "file (\(model.config.fileType ?? "?"))" : word
                console.line(TextUtil.pad(label, to: labelWidth) + "  " + SampleCommand.oneLine(agreed) + marked
                             + console.styled("  (\(same)/\(out.ids.count) as f32)", .dim))
            }
        } catch {
            throw CommandError(error)
        }
    }

    /// Generated text on one line: newlines shown as ↵, control characters escaped.
    static func oneLine(_ s: String) -> String {
        TextUtil.sanitize(s.replacingOccurrences(of: "\n", with: "↵"))
    }
}
