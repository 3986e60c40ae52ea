import Foundation
import LMEngine

/// `chat`: a multi-turn conversation in the model's chat template.
/// `chat MESSAGE` sends one turn (the conversation carries on across calls);
/// `chat` alone at the prompt opens a chat until `/bye`; `chat --reset` forgets.
struct ChatCommand: Command {
    let name = "chat"
    let topic = Topic.generate
    let summary = "talk to the model in its chat template (`/bye` leaves, --reset forgets)"
    let usage = "chat [MESSAGE] [--reset] [--system TEXT]"
    let examples = ["chat", "chat What is a language model?", "chat --reset"]
    let flags = [
        Arguments.Flag("reset", "forget the conversation so far"),
        Arguments.Flag("system", value: "TEXT", "a system message for a new conversation"),
    ]

    func run(_ args: Arguments, session: Session) throws {
        if let api = session.models.currentAPI { return try APIChat.run(args, api: api, session: session) }
        let loaded = try session.requireModel()
        guard let template = loaded.chatTemplate else {
            throw CommandError.state("\(loaded.name) has no chat template; use `gen` for plain text")
        }
        if args.flag("reset") {
            loaded.forgetConversation()
            if args.text.isEmpty { session.console.line("conversation cleared"); return }
        }
        if let system = args.options["system"], loaded.conversation.isEmpty {
            loaded.conversation.append(.system(system))
        }
        if !args.text.isEmpty {
            try turn(args.text, loaded: loaded, template: template, session: session)
            return
        }
        guard session.interactive, let readLine = session.readLine else {
            throw CommandError.usage("outside the interactive lab, give the message: chat \"hello\"")
        }
        session.console.line(session.console.styled("chatting with \(loaded.name) — type /bye to leave", .dim))
        while let line = readLine("you> ") {
            let message = line.trimmingCharacters(in: .whitespaces)
            if message == "/bye" || message == "/exit" { break }
            if message.isEmpty { continue }
            session.interrupt.reset()
            try turn(message, loaded: loaded, template: template, session: session)
        }
    }

    /// One user turn: render the whole conversation, reuse the cached prefix,
    /// feed only what is new, and stream the answer.
    func turn(_ message: String, loaded: LoadedModel, template: ChatTemplate, session: Session) throws {
        let model = loaded.model
        let tokenizer = model.tokenizer
        var messages = loaded.conversation
        messages.append(.user(message))
        let rendered = template.render(messages, addGenerationPrompt: true)
        let ids = tokenizer.encode(rendered, addBOS: tokenizer.addsBOS, parseSpecial: true)
        let maxTokens = session.settings.int("max_tokens")
        try GenCommand.checkFits(ids.count, model: model)
        // Keep the cached tokens that the new rendering starts with.
        var shared = 0
        if model.position == loaded.conversationTokens.count {
            while shared < min(ids.count - 1, loaded.conversationTokens.count) && ids[shared] == loaded.conversationTokens[shared] {
                shared += 1
            }
        }
        model.rewind(to: shared)
        var answer = ""
        let console = session.console
        let result = try Generator(model: model).generate(
            prompt: Array(ids[shared...]), maxTokens: maxTokens, sampler: Sampler(session.samplerSettings),
            reset: shared == 0, shouldStop: { session.interrupt.isSet }
        ) { _, piece in
            answer += piece
            console.write(TextUtil.sanitize(piece, keepNewlines: true))
        }
        console.line()
        console.line(console.styled(GenCommand.statsLine(result.stats), .dim))
        messages.append(.assistant(answer))
        loaded.conversation = messages
        loaded.conversationTokens = ids + result.ids
    }
}
