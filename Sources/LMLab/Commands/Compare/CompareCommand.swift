import Foundation

/// `compare WHAT …`: side-by-side comparisons. Each kind is a small type of its
/// own; this command only dispatches on the first word, so another kind
/// (e.g. `compare quant`) is one more entry in `kinds`.
struct CompareCommand: Command {
    let name = "compare"
    let topic = Topic.inspect
    let summary = "side by side: every loaded model on one prompt, or the quantization ladder (`compare quant`)"
    let usage = "compare models PROMPT [--max N] [--json] | " + CompareQuant.usage
    let examples = ["compare models The capital of France is", "compare models \"2 + 2 =\" --max 8",
                    "compare quant f32 f16 q8_0 q4_0", "compare quant file q4_k q2_k --chunks 2 --json"]
    let flags = CompareModels.flags + CompareQuant.flags

    /// The kinds `compare` knows, by their first word.
    static let kinds: [String: (Arguments, Session) throws -> Void] = [
        "models": { try CompareModels.run($0, session: $1) },
        "quant": { try CompareQuant.run($0, session: $1) },
    ]

    func complete(_ previous: [String], session: Session) -> [String] {
        if previous.isEmpty { return CompareCommand.kinds.keys.sorted() }
        return previous.first == "quant" ? QuantCommand.typeNames + ["file"] : []
    }

    func run(_ args: Arguments, session: Session) throws {
        guard let kind = args.positional(0) else { throw CommandError.usage("usage: \(usage)") }
        guard let run = CompareCommand.kinds[kind] else {
            let known = CompareCommand.kinds.keys.sorted()
            let hint = Suggest.closest(to: kind, in: known).map { " — did you mean '\($0)'?" } ?? ""
            throw CommandError.usage("compare what? '\(TextUtil.sanitize(kind))' is not one of: "
                                     + known.joined(separator: ", ") + hint)
        }
        try run(Arguments(positionals: Array(args.positionals.dropFirst()), options: args.options, flags: args.flags), session)
    }
}
