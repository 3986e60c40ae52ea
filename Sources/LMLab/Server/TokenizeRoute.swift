import Foundation
import Hummingbird
import LMEngine

/// llama-server's POST /tokenize and /detokenize, with an optional `model`
/// (the lab serves several; default: the first).
struct TokenizeRoute {
    let server: LabServer

    struct Piece: Codable { var id: Int32; var piece: String }
    struct Tokens: Codable { var tokens: [Int32] }
    struct TokensWithPieces: Codable { var tokens: [Piece] }
    struct Content: Codable { var content: String }

    func register(on router: ServeRouter) {
        router.post("/tokenize") { [server] request, _ in
            let body = try await RequestBodyReader.decode(TokenizeRequest.self, from: request)
            let tokenizer = try TokenizeRoute.worker(server, body.model).loaded.model.tokenizer
            let ids = tokenizer.encode(body.content, addBOS: (body.add_special ?? false) && tokenizer.addsBOS, parseSpecial: true)
            if body.with_pieces == true {
                return try JSONResponse.make(TokensWithPieces(tokens: ids.map { Piece(id: $0, piece: tokenizer.piece($0)) }))
            }
            return try JSONResponse.make(Tokens(tokens: ids))
        }
        router.post("/detokenize") { [server] request, _ in
            let body = try await RequestBodyReader.decode(DetokenizeRequest.self, from: request)
            let tokenizer = try TokenizeRoute.worker(server, body.model).loaded.model.tokenizer
            if let bad = body.tokens.first(where: { $0 < 0 || $0 >= tokenizer.vocabularySize }) {
                throw APIError.badRequest("token \(bad) is outside the vocabulary (0..<\(tokenizer.vocabularySize))", param: "tokens")
            }
            return try JSONResponse.make(Content(content: tokenizer.decode(body.tokens.map { Int32($0) })))
        }
    }

    static func worker(_ server: LabServer, _ name: String?) throws -> ModelWorker {
        if let name { return try server.worker(name) }
        guard let first = server.workers.first else { throw APIError.server("no model served") }
        return first
    }
}
