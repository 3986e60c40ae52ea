import Foundation

/// What the lab makes (corpora, checkpoints, models): the folder is made when it is missing
/// (a fresh ~/.lmlab, say), and the bytes appear under the final name only when complete.
/// `save` does not use it: a notebook into a folder that isn't there is a mistyped path.
public enum AtomicWrite {
    /// Makes the folder that will hold `url`, with any folders above it.
    public static func makeFolder(for url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    }

    /// Writes beside `url` and renames over it (Foundation's `.atomic`), after making its folder.
    public static func write(_ data: Data, to url: URL) throws {
        try makeFolder(for: url)
        try data.write(to: url, options: .atomic)
    }
}
