import Foundation
import LMEngine

/// What the prompt-taking inspect commands (next, attention, lens) share.
enum InspectInput {
    /// Splits `TEXT … 3 1` into the text words and up to `count` trailing whole numbers.
    /// The text keeps at least one word, so `next 42` asks about the text "42".
    static func trailingNumbers(_ words: [String], upTo count: Int) -> (words: [String], numbers: [Int]) {
        var words = words
        var numbers: [Int] = []
        while numbers.count < count, words.count > 1, let n = Int(words.last!) {
            numbers.insert(n, at: 0)
            words.removeLast()
        }
        return (words, numbers)
    }

    /// Token ids for a prompt as `gen` would feed them, checked against the context.
    static func encode(_ text: String, loaded: LoadedModel) throws -> [Int32] {
        let model = loaded.model
        let ids = model.tokenizer.encode(text, addBOS: model.tokenizer.addsBOS, parseSpecial: true)
        guard !ids.isEmpty else { throw CommandError.usage("the text gives no tokens") }
        try GenCommand.checkFits(ids.count, model: model)
        return ids
    }

    /// Runs the prompt from an empty cache and returns the next-token logits.
    /// This replaces what the cache held, so a `chat` conversation starts over.
    static func logits(after text: String, loaded: LoadedModel) throws -> (ids: [Int32], logits: [Float]) {
        let ids = try encode(text, loaded: loaded)
        loaded.forgetConversation()
        loaded.model.reset()
        return (ids, try loaded.model.logitsAfter(ids))
    }

    /// A token as a label: "·Paris" in quotes, with spaces and newlines made visible.
    static func quoted(_ id: Int32, _ tokenizer: Tokenizer) -> String {
        "\"" + TokensCommand.visible(TokensCommand.pieceText(id, tokenizer)) + "\""
    }
}
