import Foundation

/// `load api:http://HOST:PORT/v1#MODEL [as NAME] [--key-env VAR] [--timeout S]`:
/// an OpenAI-compatible server's model held beside the local ones. The server is
/// checked at once (GET /v1/models) and one line says what was found; the key is
/// read from the environment variable only, so it never appears in a command line,
/// the history, a notebook or a cache.
enum LoadAPIModel {
    static let defaultTimeout = 30.0

    static func run(word: String, alias: String?, _ args: Arguments, session: Session) throws {
        let endpoint = try APIEndpoint(parsing: word)
        let name = try alias.map(LoadCommand.checkedName) ?? (try defaultName(endpoint.model))
        let timeout: Double = try args.number("timeout", in: 0.1...3600) ?? defaultTimeout
        var key: String?
        if let variable = args.options["key-env"] {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw CommandError.usage("the environment variable \(TextUtil.sanitize(variable)) (--key-env) is not set or empty")
            }
            key = value
        }
        let client = OpenAIClient(endpoint: endpoint, key: key, timeout: timeout)
        let found: (ids: [String], seconds: Double)
        do {
            found = try client.models(shouldStop: { session.interrupt.isSet })
        } catch let failure as APIFailure {
            if failure.kind == .interrupted { throw CommandError.interrupted }
            throw CommandError.failed("can't load \(name): \(failure.detail)")
        }
        guard found.ids.contains(endpoint.model) else {
            let hint = Suggest.closest(to: endpoint.model, in: found.ids).map { " — did you mean '\($0)'?" } ?? ""
            let offered = found.ids.isEmpty ? "none" : found.ids.prefix(12).map { TextUtil.sanitize($0) }.joined(separator: ", ")
                + (found.ids.count > 12 ? ", …" : "")
            throw CommandError.failed("\(endpoint.baseURL) has no model '\(TextUtil.sanitize(endpoint.model))'\(hint); it offers: \(offered)")
        }
        let model = APIModel(name: name, client: client, loadRoundTrip: found.seconds, keyVariable: args.options["key-env"])
        session.models.add(model)
        session.adoptModelDefaults()
        session.console.line(String(format: "loaded %@: API model '%@' at %@ (%d model%@ offered, round trip %.0f ms measured)",
                                    name, TextUtil.sanitize(endpoint.model), endpoint.baseURL, found.ids.count,
                                    found.ids.count == 1 ? "" : "s", found.seconds * 1000))
    }

    /// The session name of an API model not given `as NAME`: the model id, when it makes a name.
    static func defaultName(_ model: String) throws -> String {
        let cleaned = String(model.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" }.prefix(40))
        return try LoadCommand.checkedName(cleaned.hasPrefix("-") ? "api" + cleaned : cleaned)
    }
}
