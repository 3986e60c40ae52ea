import Foundation
import LMEngine

/// `serve`: the loaded models as an OpenAI-compatible HTTP server until Ctrl-C.
/// The routes are in Sources/LMLab/Server; this command only checks its options,
/// loads what it was given, and blocks while the server runs — or, with
/// `--background`, starts a second lab process that serves them and loads them back
/// into this session as API models (BackgroundServer.swift), until `serve stop`.
struct ServeCommand: Command {
    let name = "serve"
    let topic = Topic.models
    let summary = "serve the loaded models over OpenAI's HTTP API (Ctrl-C stops; --background goes on at the prompt)"
    let usage = "serve [MODEL ...] [--host H] [--port N] [--api-key-env VAR] [--queue N] [--delay MS] [--show-prompts] [--background] | serve stop | serve log [N]"
    let examples = ["serve", "serve smollm2 gemma3 --port 8081", "serve --api-key-env LMLAB_KEY",
                    "serve gemma3 --background --delay 80", "serve log", "serve stop"]
    let flags = [
        Arguments.Flag("background", "serve from a second lab process and go on at the prompt; the models come back as NAME-api"),
        Arguments.Flag("delay", value: "MS", "hold each request MS ms before answering, as a server that far away would (default 0)"),
        Arguments.Flag("show-prompts", "log each prompt's text as the server received it: what a provider sees"),
        Arguments.Flag("parent", value: "PID", "stop when process PID ends (--background sets it)"),
        Arguments.Flag("host", value: "H", "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)"),
        Arguments.Flag("port", value: "N", "port (default 8080, with --background a free one; 0 picks a free one)"),
        Arguments.Flag("api-key-env", value: "VAR", "require `Authorization: Bearer KEY`, KEY read from this environment variable"),
        Arguments.Flag("queue", value: "N", "requests held per model, running + waiting, before 503 (default 8)"),
    ]
    /// A key typed on the line must not go into a saved notebook.
    var recordsInTranscript: Bool { false }

    func complete(_ previous: [String], session: Session) -> [String] {
        ModelLocator.candidates(home: session.home)
    }

    func run(_ args: Arguments, session: Session) throws {
        switch args.positional(0) {
        case "stop" where session.models["stop"] == nil: return try stopBackground(session: session)
        case "log" where session.models["log"] == nil: return try showLog(args, session: session)
        default: break
        }
        var options = ServeOptions()
        if let host = args.options["host"] {
            guard !host.isEmpty, !host.contains(" ") else { throw CommandError.usage("--host needs an address, e.g. 127.0.0.1") }
            options.host = host
        }
        if let port: Int = try args.number("port", in: 0...65535) { options.port = port }
        // In the background the lab connects for itself: any free port will do.
        else if args.flag("background") { options.port = 0 }
        if let queue: Int = try args.number("queue", in: 1...1000) { options.queueCapacity = queue }
        if let variable = args.options["api-key-env"] {
            guard let key = ProcessInfo.processInfo.environment[variable], !key.isEmpty else {
                throw CommandError.usage("the environment variable \(TextUtil.sanitize(variable)) is not set (it should hold the API key)")
            }
            options.apiKey = key
        }
        if let delay: Int = try args.number("delay", in: 0...60_000) { options.delayMilliseconds = delay }
        options.showPrompts = args.flag("show-prompts")
        if let parent: Int32 = try args.number("parent", in: 1...Int32.max) { options.parentProcess = parent }
        // Serving an API model would relay a remote server: the lab serves only weights it holds.
        if let api = args.positionals.lazy.compactMap({ session.models.api($0) }).first { throw LoadedModels.needsWeights(api) }
        for model in args.positionals where session.models[model] == nil {
            try session.registry.execute("load \(model)", session: session)
        }
        guard !session.models.all.isEmpty else {
            throw CommandError.state("no model loaded — give one (serve smollm2) or load one first")
        }
        let models = args.positionals.isEmpty ? session.models.all : args.positionals.compactMap { session.models[$0] }
        if args.flag("background") { return try startBackground(models, args, options: options, session: session) }
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
            let orphaned = options.parentProcess.map { getppid() != $0 } ?? false
            if session.interrupt.isSet || orphaned {
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

    /// `--background`: the loads and the `serve` line for a second lab process, then the
    /// served models loaded back as `NAME-api` through the URL it listens on.
    func startBackground(_ models: [LoadedModel], _ args: Arguments, options: ServeOptions, session: Session) throws {
        guard options.parentProcess == nil else { throw CommandError.usage("--parent is for the server --background starts") }
        var lines = models.map { m in
            "load \"\(m.url.path.replacingOccurrences(of: "\"", with: "\\\""))\" as \(m.name) --context \(m.model.cache.capacity)"
        }
        var serve = "serve " + models.map(\.name).joined(separator: " ")
            + " --host \(options.host) --port \(options.port) --queue \(options.queueCapacity) --parent \(getpid())"
        if options.delayMilliseconds > 0 { serve += " --delay \(options.delayMilliseconds)" }
        if options.showPrompts { serve += " --show-prompts" }
        if let variable = args.options["api-key-env"] { serve += " --api-key-env \(variable)" }
        lines.append(serve)
        let log = session.home.appendingPathComponent("serve").appendingPathComponent("serve-\(getpid())-\(Int(Date().timeIntervalSince1970 * 1000)).log")
        let server: BackgroundServer
        do {
            server = try BackgroundServer.start(lines: lines, served: models.map(\.name), log: log,
                                                shouldStop: { session.interrupt.isSet })
        } catch BackgroundServer.Failure.interrupted {
            throw CommandError.interrupted
        } catch let failure as BackgroundServer.Failure {
            throw CommandError.failed(failure.description)
        }
        session.backgroundServers.append(server)
        let quantized = models.filter { $0.weightSet != nil }.map(\.name)
        session.console.line("serving \(models.map(\.name).joined(separator: ", ")) from a second lab process (pid \(server.pid)) at \(server.baseURL)"
                             + (options.delayMilliseconds > 0 ? " · \(options.delayMilliseconds) ms added to every request" : "")
                             + " · log \(log.path)")
        if !quantized.isEmpty {
            session.console.line("(it serves the files: \(quantized.joined(separator: ", ")) quantized here in memory are served as the file holds them)")
        }
        let current = session.models.currentName
        let key = args.options["api-key-env"].map { " --key-env \($0)" } ?? ""
        for m in models {
            let apiName = m.name + "-api"
            try session.registry.execute("load api:\(server.baseURL)#\(m.name) as \(apiName)\(key)", session: session)
            server.apiNames.append(apiName)
        }
        if let current { _ = session.models.use(current); session.adoptModelDefaults() }
        session.console.line("reach them with `use \(server.apiNames[0])` (or cascade tiers); `serve log` shows what the server saw; `serve stop` ends it")
    }

    /// `serve stop`: ends every background server and forgets the API models that reached it.
    func stopBackground(session: Session) throws {
        guard !session.backgroundServers.isEmpty else { throw CommandError.state("no background server runs (start one: serve MODEL --background)") }
        for server in session.backgroundServers {
            server.stop()
            for name in server.apiNames where session.models.api(name) != nil {
                let wasCurrent = session.models.currentName == name
                session.models.remove(name)
                if wasCurrent { session.adoptModelDefaults() }
            }
            session.console.line("stopped the server at \(server.baseURL) (pid \(server.pid))"
                                 + (server.apiNames.isEmpty ? "" : "; unloaded \(server.apiNames.joined(separator: ", "))"))
        }
        session.backgroundServers = []
    }

    /// `serve log [N]`: the background server's last N lines (default 10): its requests as it saw them.
    func showLog(_ args: Arguments, session: Session) throws {
        guard !session.backgroundServers.isEmpty else { throw CommandError.state("no background server runs (start one: serve MODEL --background)") }
        let count: Int
        if let word = args.positional(1) {
            guard let n = Int(word), (1...1000).contains(n) else { throw CommandError.usage("serve log N takes a count from 1 to 1000, got '\(TextUtil.sanitize(word))'") }
            count = n
        } else { count = 10 }
        for server in session.backgroundServers {
            let state = server.isRunning ? "running" : "stopped"
            session.console.line(session.console.styled("server at \(server.baseURL) (pid \(server.pid), \(state)):", .dim))
            for line in server.lastLines(count) { session.console.line("  " + TextUtil.sanitize(line)) }
        }
    }

    final class FailureBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Error?
        func set(_ e: Error) { lock.lock(); stored = e; lock.unlock() }
        var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    }
}
