import Foundation

/// A model the session reaches over an OpenAI-compatible API (`load api:URL#MODEL`),
/// held beside the local ones under its own name. It has no weights here: commands
/// that need weights (next, quant, layers, …) refuse it by name.
public final class APIModel {
    public let name: String
    public let client: OpenAIClient
    /// The round trip of the check at load (GET /v1/models), in seconds.
    public let loadRoundTrip: Double
    /// The name of the environment variable the key came from (nil: no key). The key itself is only in the client.
    public let keyVariable: String?

    public var endpoint: APIEndpoint { client.endpoint }
    /// The conversation `chat` keeps with it: (role, content), sent whole each turn
    /// (the server keeps nothing between requests).
    var conversation: [(role: String, content: String)] = []

    public init(name: String, client: OpenAIClient, loadRoundTrip: Double, keyVariable: String?) {
        self.name = name; self.client = client; self.loadRoundTrip = loadRoundTrip; self.keyVariable = keyVariable
    }

    /// One line for listings: where it is and how it is reached.
    public var summary: String {
        "API \(endpoint.display)" + (keyVariable.map { " · key from $\($0)" } ?? " · no key")
            + String(format: " · timeout %g s", client.timeout)
    }
}
