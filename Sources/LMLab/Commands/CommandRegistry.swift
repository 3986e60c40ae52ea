/// All commands by name and alias, and the one place a line of input is run.
public final class CommandRegistry {
    public private(set) var commands: [Command] = []
    private var byName: [String: Int] = [:]

    public init(_ commands: [Command] = []) {
        for c in commands { register(c) }
    }

    public func register(_ command: Command) {
        let index = commands.count
        commands.append(command)
        for n in [command.name] + command.aliases {
            precondition(byName[n] == nil, "two commands named \(n)")
            byName[n] = index
        }
    }

    public func lookup(_ word: String) -> Command? {
        // `/cmd` is accepted as `cmd`: Ollama users type commands that way.
        let w = word.hasPrefix("/") ? String(word.dropFirst()) : word
        return byName[w].map { commands[$0] }
    }

    /// Every name and alias, sorted, for completion.
    public var allNames: [String] { byName.keys.sorted() }

    /// Runs one command line (already split from its neighbours). Empty lines
    /// and `#` comments do nothing. Throws CommandError with a one-line message.
    public func execute(_ line: String, session: Session) throws {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { return }
        let words = try Arguments.split(trimmed)
        guard let first = words.first else { return }
        guard let command = lookup(first) else {
            let bare = first.hasPrefix("/") ? String(first.dropFirst()) : first
            let shown = TextUtil.sanitize(TextUtil.truncate(first, to: 40))
            if let s = Suggest.closest(to: bare, in: allNames) {
                throw CommandError.usage("unknown command '\(shown)' — did you mean '\(s)'?")
            }
            throw CommandError.usage("unknown command '\(shown)' — type 'help' for the list")
        }
        let args = try Arguments(words: Array(words.dropFirst()), accepting: command.flags)
        if let expected = command.positionals, !expected.contains(args.positionals.count) {
            throw CommandError.usage("usage: \(command.usage)")
        }
        session.interrupt.reset()
        try command.run(args, session: session)
    }

    /// Whether a line is one `save FILE.md` should keep: a known command that isn't about the notebook.
    func recordsInTranscript(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#"),
              let first = trimmed.split(separator: " ").first, let command = lookup(String(first)) else { return false }
        return command.recordsInTranscript
    }

    /// Completion candidates for the word at the end of `line`.
    public func completions(line: String, session: Session) -> [String] {
        let endsWithSpace = line.last == " "
        let words = (try? Arguments.split(line)) ?? line.split(separator: " ").map(String.init)
        let partial = endsWithSpace ? "" : (words.last ?? "")
        let before = endsWithSpace ? words : Array(words.dropLast())
        if before.isEmpty {
            let slash = partial.hasPrefix("/")
            let bare = slash ? String(partial.dropFirst()) : partial
            return allNames.filter { $0.hasPrefix(bare) }.map { slash ? "/" + $0 : $0 }
        }
        guard let command = lookup(before[0]) else { return [] }
        if partial.hasPrefix("--") {
            return command.flags.map { "--" + $0.name }.filter { $0.hasPrefix(partial) }
        }
        return command.complete(Array(before.dropFirst()), session: session).filter { $0.hasPrefix(partial) }
    }
}

import Foundation
