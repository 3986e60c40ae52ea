import Foundation

/// The text `ppl`, `kld` and `compare quant` read: a file the user names, or by
/// default the project's own prose (`data/eval-prose.txt`: several KB of varied
/// English written for lmlab and used for nothing else, so no model trained on it).
enum EvalText {
    static let defaultName = "data/eval-prose.txt"

    /// Where the default text is: ./data, or the data folder of the checkout the binary was built in.
    static func defaultURL() -> URL? {
        let candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(defaultName),
                          ModelLocator.checkoutRoot?.appendingPathComponent(defaultName)].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The text of the named file, or of the default when `path` is nil; and the name to show.
    static func read(_ path: String?) throws -> (text: String, shown: String) {
        let url: URL
        let shown: String
        if let path {
            url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath); shown = path
        } else {
            guard let d = defaultURL() else { throw CommandError.state("the default text \(defaultName) is missing; give a file") }
            url = d; shown = defaultName
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CommandError.failed("can't read '\(TextUtil.sanitize(shown))'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandError.failed("'\(TextUtil.sanitize(shown))' is not UTF-8 text")
        }
        return (text, shown)
    }
}
