/// `set KEY VALUE` changes a session setting; `set KEY default` forgets the user value.
struct SetCommand: Command {
    let name = "set"
    let topic = Topic.session
    let summary = "change a setting (temperature, top_k, seed, threads, …)"
    let usage = "set KEY VALUE | set KEY default"
    let examples = ["set temperature 0.7", "set seed 7", "set top_k default"]

    func complete(_ previous: [String], session: Session) -> [String] {
        switch previous.count {
        case 0: return Settings.specs.map(\.name)
        case 1:
            guard let spec = Settings.spec(previous[0]) else { return [] }
            if case .choice(let options) = spec.kind { return options + ["default"] }
            return ["default"]
        default: return []
        }
    }

    func run(_ args: Arguments, session: Session) throws {
        guard args.positionals.count == 2, let key = args.positional(0), let value = args.positional(1) else {
            throw CommandError.usage("usage: \(usage)")
        }
        if value == "default" {
            _ = try Settings.validate(key, Settings.spec(key)?.defaultValue ?? "")
            session.settings.unset(key)
        } else {
            try session.settings.set(key, value)
        }
        session.applySettings()
        let (v, source) = session.settings.value(key)
        session.console.line("\(key) = \(v) (\(source.rawValue))")
    }
}
