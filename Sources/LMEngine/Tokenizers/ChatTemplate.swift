import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// Chat formats rendered natively (no Jinja interpreter), recognised from
/// the `tokenizer.chat_template` text.
public enum ChatTemplate: Sendable, Equatable {
    /// `<|im_start|>role\ncontent<|im_end|>\n` per message, then
    /// `<|im_start|>assistant\n` as the generation prompt. `defaultSystem` is
    /// inserted first when the conversation does not start with a system
    /// message (SmolLM2's template does this).
    case chatML(defaultSystem: String?)

    /// Gemma: `<start_of_turn>user\ncontent<end_of_turn>\n`, the assistant
    /// called `model`, then `<start_of_turn>model\n` as the generation prompt.
    /// Gemma has no system role: its template puts the system text, plus a
    /// blank line, at the start of the first user turn. Message text is
    /// trimmed of surrounding whitespace, as the template's `| trim` does.
    /// The template's leading `{{ bos_token }}` is left to the tokenizer (add BOS).
    case gemma

    /// The template in the file's `tokenizer.chat_template`, or nil when it is
    /// absent or not a format this enum knows. A Gemma file without a template
    /// (some conversions leave it out) still gets Gemma's: the model only
    /// knows that one.
    public static func detect(from gguf: GGUFFile) -> ChatTemplate? {
        guard let text = gguf.metadata["tokenizer.chat_template"]?.stringValue else {
            let architecture = gguf.metadata["general.architecture"]?.stringValue ?? ""
            return architecture.hasPrefix("gemma") ? .gemma : nil
        }
        return detect(text)
    }

    public static func detect(_ template: String) -> ChatTemplate? {
        if template.contains("<start_of_turn>") { return .gemma }
        guard template.contains("<|im_start|>") else { return nil }
        return .chatML(defaultSystem: defaultSystemMessage(in: template))
    }

    /// A ChatML template that inserts a system turn when the first message is
    /// not one writes it as a literal: `'<|im_start|>system\n…<|im_end|>`.
    /// Returns that text, with Jinja string escapes undone.
    static func defaultSystemMessage(in template: String) -> String? {
        guard template.contains("!= 'system'") || template.contains("!= \"system\"") else { return nil }
        for opener in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            guard let start = template.range(of: opener),
                  let end = template.range(of: "<|im_end|>", range: start.upperBound..<template.endIndex)
            else { continue }
            let literal = template[start.upperBound..<end.lowerBound]
            // A Jinja expression rather than literal text means there is no fixed default.
            guard !literal.contains("{{"), !literal.contains("'+"), !literal.contains("' +") else { return nil }
            return literal.replacingOccurrences(of: "\\n", with: "\n")
                .replacingOccurrences(of: "\\'", with: "'")
                .replacingOccurrences(of: "\\\"", with: "\"")
        }
        return nil
    }

    /// The prompt text for `messages`, ending with the assistant's opening
    /// when `addGenerationPrompt` is true. Encode it with parseSpecial on.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        switch self {
        case let .chatML(defaultSystem):
            var out = ""
            if let defaultSystem, messages.first?.role != "system" {
                out += "<|im_start|>system\n\(defaultSystem)<|im_end|>\n"
            }
            for m in messages {
                out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n"
            }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
            return out
        case .gemma:
            var out = ""
            var turns = messages[...]
            var firstPrefix = ""
            if let first = turns.first, first.role == "system" {
                firstPrefix = first.content + "\n\n"
                turns = turns.dropFirst()
            }
            for (i, m) in turns.enumerated() {
                let role = m.role == "assistant" ? "model" : m.role
                let content = m.content.trimmingCharacters(in: .whitespacesAndNewlines)
                out += "<start_of_turn>\(role)\n\(i == 0 ? firstPrefix : "")\(content)<end_of_turn>\n"
            }
            if addGenerationPrompt { out += "<start_of_turn>model\n" }
            return out
        }
    }
}
