import Foundation

/// What `load api:http://HOST:PORT/v1#MODEL` names: an OpenAI-compatible server's
/// base URL (up to and including `/v1`) and the model id to ask it for.
public struct APIEndpoint: Equatable, Sendable {
    public static let prefix = "api:"

    /// The base URL without a trailing slash, e.g. `http://127.0.0.1:8080/v1`.
    public let baseURL: String
    /// The server's model id, e.g. `smollm2` or `gpt-4o-mini`.
    public let model: String

    /// Parses the word after `load`; every malformed part is a one-line error naming it.
    public init(parsing word: String) throws {
        guard word.hasPrefix(APIEndpoint.prefix) else {
            throw CommandError.usage("an API model starts with 'api:', e.g. api:http://127.0.0.1:8080/v1#smollm2")
        }
        let rest = String(word.dropFirst(APIEndpoint.prefix.count))
        guard let hash = rest.lastIndex(of: "#") else {
            throw CommandError.usage("'\(TextUtil.sanitize(word))' names no model: add #MODEL, e.g. api:http://127.0.0.1:8080/v1#smollm2")
        }
        let base = String(rest[..<hash]), model = String(rest[rest.index(after: hash)...])
        guard !model.isEmpty, !model.contains(where: { $0.isWhitespace }) else {
            throw CommandError.usage("the model after '#' is empty or has spaces in '\(TextUtil.sanitize(word))'")
        }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw CommandError.usage("'\(TextUtil.sanitize(base))' is not an http:// or https:// URL")
        }
        guard let host = url.host, !host.isEmpty else {
            throw CommandError.usage("'\(TextUtil.sanitize(base))' has no host")
        }
        // A key belongs in --key-env, never in the URL (it would land in history and notebooks).
        guard url.user == nil, url.password == nil, url.query == nil else {
            throw CommandError.usage("the API URL may not carry a user, password or query; give the key with --key-env VAR")
        }
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        baseURL = trimmed
        self.model = model
    }

    /// The URL of a route under the base, e.g. `route("models")` → `…/v1/models`.
    public func route(_ path: String) -> String { baseURL + "/" + path }

    /// `/health` sits beside `/v1`, not under it (llama-server's and the lab's).
    public var healthURL: String {
        baseURL.hasSuffix("/v1") ? String(baseURL.dropLast(3)) + "/health" : baseURL + "/health"
    }

    /// How the lab shows it: the base and the model, never a key.
    public var display: String { baseURL + "#" + model }
}
