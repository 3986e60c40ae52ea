/// `show settings`: every setting with its value, where the value comes from, and its range.
struct ShowCommand: Command {
    let name = "show"
    let topic = Topic.session
    let summary = "show settings (value, and whether the lab, the model or you set it)"
    let usage = "show settings"
    let examples = ["show settings"]

    func complete(_ previous: [String], session: Session) -> [String] { previous.isEmpty ? ["settings"] : [] }

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals == ["settings"] else { throw CommandError.usage("usage: \(usage)") }
        var t = Table(["setting", "value", "set by", "range", "meaning"], alignments: [.left, .right, .left, .left, .left])
        for spec in Settings.specs {
            let (v, source) = session.settings.value(spec.name)
            let range: String
            switch spec.kind {
            case .integer(let r): range = "\(r.lowerBound)…\(r.upperBound)"
            case .real(let r): range = "\(Settings.format(r.lowerBound))…\(Settings.format(r.upperBound))"
            case .choice(let o): range = o.joined(separator: "|")
            }
            t.add([spec.name, v, source.rawValue, range, spec.help])
        }
        session.console.line(t.render(console: session.console))
    }
}
