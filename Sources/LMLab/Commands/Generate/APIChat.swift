import Foundation

/// `chat` on an API model: the conversation is kept here and sent whole each turn to
/// POST /v1/chat/completions (the server renders its own chat template); the answer
/// streams, then the measured figures as `gen` prints them.
enum APIChat {
    static func run(_ args: Arguments, api: APIModel, session: Session) throws {
        if args.flag("reset") {
            api.conversation = []
            if args.text.isEmpty { session.console.line("conversation cleared"); return }
        }
        if let system = args.options["system"], api.conversation.isEmpty {
            api.conversation.append((role: "system", content: system))
        }
        if !args.text.isEmpty { return try turn(args.text, api: api, session: session) }
        guard session.interactive, let readLine = session.readLine else {
            throw CommandError.usage("outside the interactive lab, give the message: chat \"hello\"")
        }
        session.console.line(session.console.styled("chatting with \(api.name) over the API — type /bye to leave", .dim))
        while let line = readLine("you> ") {
            let message = line.trimmingCharacters(in: .whitespaces)
            if message == "/bye" || message == "/exit" { break }
            if message.isEmpty { continue }
            session.interrupt.reset()
            try turn(message, api: api, session: session)
        }
    }

    static func turn(_ message: String, api: APIModel, session: Session) throws {
        let console = session.console
        let stop = { session.interrupt.isSet }
        let messages = api.conversation + [(role: "user", content: message)]
        let ask = OpenAIClient.CompletionAsk(prompt: "", maxTokens: session.settings.int("max_tokens"),
                                             temperature: min(2, session.settings.double("temperature")),
                                             seed: session.settings.int("seed"))
        let answer: OpenAIClient.StreamedAnswer
        let roundTrip: Double
        var streamed = false
        do {
            roundTrip = try api.client.models(shouldStop: stop).seconds
            answer = try api.client.streamChat(messages, ask, shouldStop: stop) { piece in
                streamed = true
                console.write(TextUtil.sanitize(piece, keepNewlines: true))
            }
        } catch let failure as APIFailure {
            // The error goes on a line of its own, after any text that did arrive.
            if streamed { console.line() }
            if failure.kind == .interrupted { throw CommandError.interrupted }
            throw CommandError.failed("\(api.name): \(failure.detail)")
        }
        console.line()
        console.line(console.styled(APIGen.statsLine(answer, roundTrip: roundTrip), .dim))
        api.conversation = messages + [(role: "assistant", content: answer.text)]
    }
}
