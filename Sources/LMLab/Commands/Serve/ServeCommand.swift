import Foundation
import LMEngine

/// `serve`: the loaded models as an OpenAI-compatible HTTP server until Ctrl-C.
/// The routes are in Sources/LMLab/Server; this command only checks its options,
/// loads what it was given, and blocks while the server runs.
struct ServeCommand: Command {
    let name = "serve"
    let topic = Topic.models
    let summary = "serve the loaded models over OpenAI's HTTP API (Ctrl-C stops)"
    let usage = "serve [MODEL ...] [--host H] [--port N] [--api-key-env VAR] [--queue N]"
    let examples = ["serve", "serve smollm2 gemma3 --port 8081", "serve --api-key-env LMLAB_KEY"]
    let flags = [
        Arguments.Flag("host", value: "H", "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)"),
        Arguments.Flag("port", value: "N", "port (default 8080; 0 picks a free one)"),
        Arguments.Flag("api-key-env", value: "VAR", "require `Authorization: Bearer KEY`, KEY read from this environment variable"),
        Arguments.Flag("queue", value: "N", "requests held per model, running + waiting, before 503 (default 8)"),
    ]
    /// A key typed on the line must not go into a saved notebook.
    var recordsInTranscript: Bool { false }

    func complete(_ previous: [String], session: Session) -> [String] {
        ModelLocator.candidates(home: session.home)
    }

    func run(_ args: Arguments, session: Session) throws {
        var options = ServeOptions()
        if let host = args.options["host"] {
            guard !host.isEmpty, !host.contains(" ") else { throw CommandError.usage("--host needs an address, e.g. 127.0.0.1") }
            options.host = host
        }
        if let port: Int = try args.number("port", in: 0...65535) { options.port = port }
        if let queue: Int = try args.number("queue", in: 1...1000) { options.queueCapacity = queue }
        if let variable = args.options["api-key-env"] {
            guard let key = ProcessInfo.processInfo.environment[variable], !key.isEmpty else {
                throw CommandError.usage("the environment variable \(TextUtil.sanitize(variable)) is not set (it should hold the API key)")
            }
            options.apiKey = key
        }
        // Serving an API model would relay a remote server: the lab serves only weights it holds.
        if let api = args.positionals.lazy.compactMap({ session.models.api($0) }).first { throw LoadedModels.needsWeights(api) }
        for model in args.positionals where session.models[model] == nil {
            try session.registry.execute("load \(model)", session: session)
        }
        guard !session.models.all.isEmpty else {
            throw CommandError.state("no model loaded — give one (serve smollm2) or load one first")
        }
        let models = args.positionals.isEmpty ? session.models.all : args.positionals.compactMap { session.models[$0] }
        let console = session.console
        let log = ServeLog { console.line($0) }
        let server = LabServer(options: options, models: models, defaults: session.samplerSettings,
                               defaultMaxTokens: session.settings.int("max_tokens"), interrupt: session.interrupt, log: log)
        try Self.runUntilInterrupted(server, session: session)
        // The server used the models' caches: a later `chat` starts its conversation afresh.
        for m in models { m.conversation = []; m.conversationTokens = [] }
    }

    /// Runs the server on Swift's concurrency threads while this thread waits for Ctrl-C.
    static func runUntilInterrupted(_ server: LabServer, session: Session) throws {
        let finished = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        let options = server.options
        let names = server.modelNames.joined(separator: ", ")
        let task = Task.detached {
            do {
                try await server.run { port in
                    server.log.line("serving \(names) at http://\(options.host):\(port)/v1"
                                    + (options.apiKey == nil ? "" : " (API key required)")
                                    + " · queue \(options.queueCapacity) per model · Ctrl-C stops")
                }
            } catch is CancellationError {
            } catch {
                failure.set(error)
            }
            finished.signal()
        }
        while finished.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if session.interrupt.isSet {
                task.cancel()
                finished.wait()
                server.log.line("server stopped")
                // Ctrl-C is how a server is meant to stop: not a failure (a script goes on, `lmlab serve` exits 0).
                session.interrupt.reset()
                return
            }
        }
        if let error = failure.error {
            throw CommandError.failed("cannot serve on \(options.host):\(options.port): \(TextUtil.sanitize(String(describing: error)))")
        }
    }

    final class FailureBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Error?
        func set(_ e: Error) { lock.lock(); stored = e; lock.unlock() }
        var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    }
}
