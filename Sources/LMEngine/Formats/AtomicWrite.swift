import Foundation

/// What the lab makes (corpora, checkpoints, models, its state files): the folder is made
/// when it is missing (a fresh ~/.lmlab, say), and the bytes appear under the final name
/// only when complete, so a crash or a full disk never leaves half a file there.
/// `save`'s notebooks don't make the folder: one that isn't there is a mistyped path.
public enum AtomicWrite {
    /// Makes the folder that will hold `url`, with any folders above it.
    public static func makeFolder(for url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    }

    /// Lets `write` fill `.NAME.partial` beside `url`, then renames it over `url`
    /// (rename(2) replaces an existing file in one step). On any failure the
    /// partial file is removed and the old `url`, if any, is untouched.
    public static func replace(_ url: URL, by write: (_ temporary: URL) throws -> Void) throws {
        try makeFolder(for: url)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        do {
            try write(temporary)
            guard rename(temporary.path, url.path) == 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// `replace` for bytes already in memory.
    public static func write(_ data: Data, to url: URL) throws {
        try replace(url) { try data.write(to: $0) }
    }
}
