import Foundation

/// One line per request (and the server's start and stop) on the lab's console.
/// Requests finish on many threads; the lock keeps their lines whole.
final class ServeLog: @unchecked Sendable {
    private let lock = NSLock()
    private let write: (String) -> Void
    init(_ write: @escaping (String) -> Void) { self.write = write }

    func line(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        write(text)
    }
}
