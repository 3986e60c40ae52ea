import Foundation
import LMEngine

/// `tokens TEXT`: how the model's tokenizer cuts a text, piece by piece.
struct TokensCommand: Command {
    let name = "tokens"
    let aliases = ["tokenize"]
    let topic = Topic.inspect
    let summary = "show how the tokenizer splits a text (ids and pieces)"
    let usage = "tokens TEXT [--no-special] [--json]"
    let examples = ["tokens naïve café 🤖", "tokens \"<|im_start|>user\"", "tokens 1234567890 --json"]
    let flags = [
        Arguments.Flag("no-special", "treat <|special|> tokens in the text as plain text"),
        Arguments.Flag.json("with the ids and pieces"),
    ]

    struct JSONOutput: Codable { var text: String; var ids: [Int32]; var pieces: [String]; var characters: Int }

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let text = args.text
        guard !text.isEmpty else { throw CommandError.usage("tokens needs a text, e.g. tokens Hello world") }
        let tokenizer = loaded.model.tokenizer
        let ids = tokenizer.encode(text, addBOS: tokenizer.addsBOS, parseSpecial: !args.flag("no-special"))
        let pieces = ids.map { TokensCommand.pieceText($0, tokenizer) }
        let console = session.console
        if args.json {
            console.line(try JSONText.encode(JSONOutput(text: text, ids: ids, pieces: pieces, characters: text.count)))
            return
        }
        if console.useColor {
            // Alternating backgrounds show where one token ends and the next begins.
            let colours = [24, 94, 29, 90]
            var line = ""
            for (i, p) in pieces.enumerated() {
                line += console.colored(TokensCommand.visible(p), foreground: 15, background: colours[i % colours.count])
            }
            console.line(line)
            console.line(ids.map(String.init).joined(separator: " "))
        } else {
            console.line(zip(ids, pieces).map { "[\($0):\(TokensCommand.visible($1))]" }.joined(separator: " "))
        }
        let perToken = ids.isEmpty ? 0 : Double(text.count) / Double(ids.count)
        session.figures["tokens"] = Double(ids.count)
        session.figures["chars_per_token"] = perToken
        console.line(String(format: "%d token%@ · %d characters · %.2f characters per token", ids.count, ids.count == 1 ? "" : "s",
                            text.count, perToken))
    }

    /// A token's text; a byte-level piece that is only part of a UTF-8
    /// character is shown as its bytes in hex, e.g. <20><F0><9F>.
    static func pieceText(_ id: Int32, _ tokenizer: Tokenizer) -> String {
        if tokenizer.isSpecial(id) { return tokenizer.piece(id) }
        let bytes = tokenizer.bytes(id)
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return bytes.map { String(format: "<%02X>", $0) }.joined()
    }

    /// A piece as it can be shown on one line: spaces as ·, newlines as ↵, tabs as →,
    /// other control characters escaped.
    static func visible(_ piece: String) -> String {
        TextUtil.sanitize(piece.replacingOccurrences(of: " ", with: "·").replacingOccurrences(of: "\n", with: "↵")
            .replacingOccurrences(of: "\t", with: "→"))
    }
}
