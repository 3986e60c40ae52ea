import Foundation

/// `cascade tier|run|explain`: the router cascade simulator. The small model
/// answers first; a router decides per query whether to escalate to the next
/// (larger, dearer) tier. Each subcommand is its own small type.
struct CascadeCommand: Command {
    let name = "cascade"
    let topic = Topic.cascade
    let summary = "router cascade: small model first, hard queries escalate; accuracy, cost, latency, APGR"
    let usage = "cascade tier [NAME key=value…] (prices: $ per 1M tokens) | cascade run [--workload FILE] [--json] | cascade explain N"
    let examples = [
        "cascade tier", "cascade tier gemma3 where=cloud rtt_ms=350 price_in=0.5 price_out=1.5",
        "cascade tier remote price_in=0.15 price_out=0.6",
        "cascade run", "cascade run --workload arithmetic --slm smollm2 --llm gemma3", "cascade run --score mean --json",
        "cascade explain 3",
    ]
    let flags = [
        Arguments.Flag("workload", value: "FILE", "a JSONL file, or a name in workloads/ (default: mixed)"),
        Arguments.Flag("tiers", value: "A,B,…", "tiers or loaded models to use, cheapest first (default: all loaded, by size)"),
        Arguments.Flag("slm", value: "NAME", "the small model (with --llm: a two-tier cascade)"),
        Arguments.Flag("llm", value: "NAME", "the large model"),
        Arguments.Flag("tasks", value: "T,…", "only items of these task types"),
        Arguments.Flag("limit", value: "N", "only the first N items"),
        Arguments.Flag("score", value: "S", "confidence score the threshold sweep uses: margin (default), mean, min, q10, entropy"),
        Arguments.Flag("rule-tasks", value: "T,…", "rule router: escalate these task types (default: arithmetic,instruction)"),
        Arguments.Flag("rule-longer", value: "N", "rule router: escalate prompts longer than N characters"),
        Arguments.Flag("rule-keywords", value: "W,…", "rule router: escalate prompts containing a keyword"),
        Arguments.Flag("seed", value: "N", "seed of the random router (default 42)"),
        Arguments.Flag("no-cache", "answer every item again instead of reading the answer cache"),
        Arguments.Flag("threshold", value: "T", "explain: the confidence threshold to show the decision at"),
        Arguments.Flag.json("with everything"),
        Arguments.Flag("detail", "run: add the threshold sweep, every router and the cost–quality chart to the short report"),
    ]

    static let actions: [String: (Arguments, Session) throws -> Void] = [
        "tier": CascadeTierAction.run, "run": CascadeRunAction.run, "explain": CascadeExplainAction.run,
    ]

    func complete(_ previous: [String], session: Session) -> [String] {
        if previous.isEmpty { return CascadeCommand.actions.keys.sorted() }
        if previous == ["tier"] { return session.models.names + session.cascade.configured.keys.sorted() }
        return []
    }

    func run(_ args: Arguments, session: Session) throws {
        guard let word = args.positional(0) else { throw CommandError.usage("usage: \(usage)") }
        guard let action = CascadeCommand.actions[word] else {
            let known = CascadeCommand.actions.keys.sorted()
            let hint = Suggest.closest(to: word, in: known).map { " — did you mean '\($0)'?" } ?? ""
            throw CommandError.usage("unknown cascade step '\(TextUtil.sanitize(word))'\(hint); one of: " + known.joined(separator: ", "))
        }
        try action(Arguments(positionals: Array(args.positionals.dropFirst()), options: args.options, flags: args.flags), session)
    }
}
