import Foundation
import Hummingbird

/// A request the server refuses, answered as OpenAI's error JSON with its HTTP status.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String
    var type: String
    var code: String?
    var param: String?
    /// Seconds a client should wait before retrying (503 when the queue is full).
    var retryAfter: Int?

    static func badRequest(_ message: String, param: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", code: nil, param: param)
    }
    static func unknownModel(_ name: String, served: [String]) -> APIError {
        APIError(status: .notFound,
                 message: "The model '\(TextUtil.sanitize(name))' does not exist; served: \(served.joined(separator: ", "))",
                 type: "invalid_request_error", code: "model_not_found", param: "model")
    }
    static let missingKey = APIError(status: .unauthorized, message: "Missing API key: send 'Authorization: Bearer KEY'",
                                     type: "invalid_request_error", code: "invalid_api_key")
    static let wrongKey = APIError(status: .unauthorized, message: "Incorrect API key provided",
                                   type: "invalid_request_error", code: "invalid_api_key")
    static func busy(model: String, depth: Int) -> APIError {
        APIError(status: .serviceUnavailable,
                 message: "model '\(model)' is busy: its queue is full (\(depth) requests); retry later",
                 type: "server_error", code: "queue_full", retryAfter: 1)
    }
    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, message: "no route \(TextUtil.sanitize(path))", type: "invalid_request_error", code: "not_found")
    }
    static func server(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error")
    }

    var body: ErrorBody { ErrorBody(error: .init(message: message, type: type, param: param, code: code)) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Decodes a JSON request body, or throws a 400 that names what is wrong.
enum RequestBodyReader {
    /// Bodies above this are refused: a prompt for a 2k-8k context fits many times over.
    static let maxBytes = 4 << 20

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw APIError(status: .contentTooLarge, message: "request body over \(maxBytes >> 20) MiB",
                           type: "invalid_request_error")
        }
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw APIError.badRequest("the request body is empty; send JSON") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw APIError.badRequest("missing field '\(path(context.codingPath + [key]))'", param: key.stringValue)
        } catch let DecodingError.typeMismatch(expected, context) {
            throw APIError.badRequest("field '\(path(context.codingPath))' should be \(describe(expected))",
                                      param: context.codingPath.last?.stringValue)
        } catch let DecodingError.valueNotFound(_, context) {
            throw APIError.badRequest("field '\(path(context.codingPath))' is null", param: context.codingPath.last?.stringValue)
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw APIError.badRequest("field '\(path(context.codingPath))': \(context.debugDescription)",
                                      param: context.codingPath.last?.stringValue)
        } catch {
            throw APIError.badRequest("the request body is not valid JSON")
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return "of another type (\(type))"
        }
    }
}
