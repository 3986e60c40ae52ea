import Foundation
import HTTPTypes
import Hummingbird
import LMEngine
import Logging
import NIOCore

/// Hummingbird's router (the lab has its own `Router`: the cascade's).
typealias ServeRouter = Hummingbird.Router<ServeContext>

/// How `serve` was asked to run.
struct ServeOptions {
    var host = "127.0.0.1"
    var port = 8080
    /// The bearer token every route but /health requires (nil: open). Never printed.
    var apiKey: String?
    /// Requests held per model: the one running plus those waiting.
    var queueCapacity = 8
    /// Milliseconds every request waits before it is handled: the round trip of a server
    /// that far away (`--delay`, lesson 9's second machine). 0 on a real network.
    var delayMilliseconds = 0
    /// Log each prompt's text as it arrived (`--show-prompts`): what a provider sees of the user's data.
    var showPrompts = false
    /// Stop when this process ends (`serve --background` sets it to the lab that started the server).
    var parentProcess: Int32?
}

/// The OpenAI-compatible server over the session's loaded models: builds the
/// routes (one small type each, in this folder) and runs Hummingbird until cancelled.
final class LabServer: @unchecked Sendable {
    let options: ServeOptions
    /// In load order; the first is the default for /tokenize.
    let workers: [ModelWorker]
    let log: ServeLog
    /// The sampler settings the lab had when `serve` started: defaults for what a request leaves out.
    let defaults: SamplerSettings
    let defaultMaxTokens: Int
    let started = Int(Date().timeIntervalSince1970)

    init(options: ServeOptions, models: [LoadedModel], defaults: SamplerSettings, defaultMaxTokens: Int,
         interrupt: Interrupt, log: ServeLog) {
        self.options = options
        self.workers = models.map { ModelWorker(loaded: $0, capacity: options.queueCapacity, interrupt: interrupt) }
        self.defaults = defaults
        self.defaultMaxTokens = defaultMaxTokens
        self.log = log
    }

    var modelNames: [String] { workers.map(\.name) }

    /// The worker serving `name`, or 404 in OpenAI's shape.
    func worker(_ name: String) throws -> ModelWorker {
        guard let w = workers.first(where: { $0.name == name }) else {
            throw APIError.unknownModel(name, served: modelNames)
        }
        return w
    }

    func makeRouter() -> ServeRouter {
        let router = ServeRouter(context: ServeContext.self)
        router.add(middleware: ErrorShapeMiddleware())
        router.add(middleware: BearerKeyMiddleware(key: options.apiKey))
        if options.delayMilliseconds > 0 { router.add(middleware: DistanceMiddleware(milliseconds: options.delayMilliseconds)) }
        HealthRoute(server: self).register(on: router)
        ModelsRoute(server: self).register(on: router)
        CompletionsRoute(server: self).register(on: router)
        ChatCompletionsRoute(server: self).register(on: router)
        TokenizeRoute(server: self).register(on: router)
        return router
    }

    /// Runs until the task is cancelled. `onListening` gets the port bound (useful with --port 0).
    func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        var logger = Logger(label: "lmlab.serve")
        logger.logLevel = .critical   // the server prints its own lines; cancellation at Ctrl-C is not an error
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "lmlab"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        try await app.run()
    }
}

/// 404s for unknown paths and any error a route didn't shape become OpenAI's error JSON.
struct ErrorShapeMiddleware: RouterMiddleware {
    typealias Context = ServeContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError where error.status == .notFound {
            throw APIError.notFound(request.uri.path)
        } catch let error as HTTPError {
            throw APIError(status: error.status, message: error.body ?? error.status.reasonPhrase, type: "invalid_request_error")
        } catch {
            throw APIError.server(TextUtil.sanitize(String(describing: error)))
        }
    }
}

/// `--api-key`: every route except /health needs `Authorization: Bearer KEY`.
struct BearerKeyMiddleware: RouterMiddleware {
    typealias Context = ServeContext
    let key: String?
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key, request.uri.path != "/health" else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else { throw APIError.missingKey }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), BearerKeyMiddleware.same(String(header.dropFirst(prefix.count)), key) else {
            throw APIError.wrongKey
        }
        return try await next(request, context)
    }

    /// Compares every byte whatever the first difference, so timing does not tell how much of a guess was right.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) {
            diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0))
        }
        return diff == 0
    }
}

/// `--delay MS`: each request (but /health) waits MS ms before it is handled, as if the
/// server stood that far away: a round trip adds its time once per request, before the
/// first byte of the answer; the stream after it keeps its pace.
struct DistanceMiddleware: RouterMiddleware {
    typealias Context = ServeContext
    let milliseconds: Int
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path != "/health" { try await Task.sleep(for: .milliseconds(milliseconds)) }
        return try await next(request, context)
    }
}

/// JSON responses: one encoder setting for every route.
enum JSONResponse {
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// One server-sent event: `data: JSON` and a blank line.
    static func event<T: Encodable>(_ value: T) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }
    static let done = ByteBuffer(string: "data: [DONE]\n\n")
}

extension HTTPField.Name {
    /// How many requests for the model were held (running + waiting) when this one joined.
    static let queueDepth = HTTPField.Name("X-Queue-Depth")!
}
