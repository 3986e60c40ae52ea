import LMEngine

/// The one line the prompt prints for an error: the engine's own description, plus,
/// for the engine errors a command at the prompt can fix, which command (the engine
/// knows nothing of the REPL, so its messages say what is wrong, not what to type).
enum ErrorLine {
    static func text(for error: Error) -> String {
        let line = String(describing: error)
        switch error {
        case ModelError.promptTooLong: return line + " (shorten it, or `unload` and load with a larger --context)"
        case ModelError.kvCacheTooLarge: return line + " (load with a smaller --context)"
        default: return line
        }
    }
}
