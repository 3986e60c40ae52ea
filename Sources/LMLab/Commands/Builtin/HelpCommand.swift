/// `help` lists commands by topic; `help CMD` shows one command in full.
struct HelpCommand: Command {
    let name = "help"
    let aliases = ["?"]
    let topic = Topic.session
    let summary = "list commands, or show one command's usage and examples"
    let usage = "help [COMMAND]"
    let examples = ["help", "help load"]

    func complete(_ previous: [String], session: Session) -> [String] {
        previous.isEmpty ? session.registry.commands.map(\.name) : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let console = session.console
        if let word = args.positional(0) {
            guard let c = session.registry.lookup(word) else {
                let hint = Suggest.closest(to: word, in: session.registry.allNames).map { " — did you mean '\($0)'?" } ?? ""
                throw CommandError.usage("no command '\(TextUtil.sanitize(word))'\(hint)")
            }
            console.line(console.styled(c.usage, .bold))
            console.line("  " + c.summary)
            if !c.aliases.isEmpty { console.line("  also: " + c.aliases.joined(separator: ", ")) }
            if !c.flags.isEmpty {
                console.line("options:")
                var t = Table([])
                for f in c.flags { t.add(["  --" + f.name + (f.value.map { " " + $0 } ?? ""), f.help]) }
                console.line(t.render())
            }
            if !c.examples.isEmpty {
                console.line("examples:")
                for e in c.examples { console.line("  lab> " + e) }
            }
            return
        }
        for topic in Topic.allCases {
            let group = session.registry.commands.filter { $0.topic == topic }
            guard !group.isEmpty else { continue }
            console.line(console.styled(topic.rawValue, .bold))
            var t = Table([])
            for c in group { t.add(["  " + c.name, c.summary]) }
            console.line(t.render())
        }
        console.line("Type 'help COMMAND' for usage and examples. `/cmd` works as `cmd`.")
    }
}
