import AsyncHTTPClient
import Foundation
import NIOCore

/// Why a call to an API model failed, as one line for the student. Each kind is one
/// way a remote model lets you down that a local one never does.
public struct APIFailure: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable, Codable {
        case unreachable, timeout, unauthorized, notFound, rateLimited, serverError, rejected, badResponse, streamDropped, interrupted
    }
    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String) { self.kind = kind; self.detail = detail }
    public var description: String { detail }

    /// A non-2xx answer: its status and the server's own message (OpenAI's error body) when it sent one.
    static func status(_ code: UInt, body: Data, endpoint: APIEndpoint) -> APIFailure {
        let message = (try? JSONDecoder().decode(ErrorBody.self, from: body)).map { ": " + TextUtil.sanitize($0.error.message) }
            ?? (body.isEmpty ? "" : ": " + TextUtil.sanitize(String(decoding: body.prefix(160), as: UTF8.self)))
        switch code {
        case 401, 403:
            return APIFailure(.unauthorized, "\(endpoint.baseURL) refused the key (\(code))\(message) — check --key-env")
        case 404:
            return APIFailure(.notFound, "\(endpoint.baseURL) has no model '\(TextUtil.sanitize(endpoint.model))' or route (404)\(message)")
        case 429: return APIFailure(.rateLimited, "\(endpoint.baseURL) is rate-limiting (429)\(message)")
        case 500...599: return APIFailure(.serverError, "\(endpoint.baseURL) failed (\(code))\(message)")
        default: return APIFailure(.rejected, "\(endpoint.baseURL) rejected the request (\(code))\(message)")
        }
    }

    /// A transport error (no HTTP answer at all) in words: refused, timed out, closed.
    static func transport(_ error: Error, endpoint: APIEndpoint, timeout: Double, midStream: Bool) -> APIFailure {
        if let failure = error as? APIFailure { return failure }
        // Ctrl-C cancels the task; whatever the cancelled request threw, that is the reason.
        if error is CancellationError || Task.isCancelled { return APIFailure(.interrupted, "stopped by Ctrl-C") }
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout, .readTimeout, .deadlineExceeded, .writeTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return APIFailure(.timeout, "\(endpoint.baseURL) did not answer within \(String(format: "%g", timeout)) s (--timeout)")
            case .cancelled:
                return APIFailure(.interrupted, "stopped by Ctrl-C")
            case .remoteConnectionClosed where midStream:
                return APIFailure(.streamDropped, "\(endpoint.baseURL) closed the stream mid-answer")
            default: break
            }
        }
        let text = String(describing: error)
        if midStream { return APIFailure(.streamDropped, "\(endpoint.baseURL) dropped the stream mid-answer (\(TextUtil.sanitize(text)))") }
        let why = text.lowercased().contains("refused") ? "connection refused" : TextUtil.sanitize(text)
        return APIFailure(.unreachable, "can't reach \(endpoint.baseURL) (\(why))")
    }
}
