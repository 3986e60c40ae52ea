import Foundation
import Synchronization

/// Ctrl-C as a flag that long work polls.
///
/// A SIGINT handler (installed by the REPL) only stores `true` here: that is
/// async-signal-safe, and the work in progress — a token loop, a perplexity
/// chunk, a download — checks `isSet` between steps and stops cleanly.
/// A handler is used rather than SIG_IGN plus a dispatch source because the
/// line editor's blocking read must be woken (EINTR) to clear the line.
public final class Interrupt: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { flag.load(ordering: .relaxed) }
    public func set() { flag.store(true, ordering: .relaxed) }
    public func reset() { flag.store(false, ordering: .relaxed) }
    /// Throws CommandError.interrupted when Ctrl-C was pressed.
    public func check() throws { if isSet { throw CommandError.interrupted } }

    /// The process-wide instance the signal handler writes to.
    public static let shared = Interrupt()
    private static let installed = Atomic<Bool>(false)

    /// Routes SIGINT to `Interrupt.shared` (no SA_RESTART, so a blocked read returns EINTR).
    public static func installHandler() {
        guard !installed.exchange(true, ordering: .relaxed) else { return }
        var action = sigaction()
        #if os(Linux)
        action.__sigaction_handler.sa_handler = { _ in Interrupt.shared.set() }
        #else
        action.__sigaction_u.__sa_handler = { _ in Interrupt.shared.set() }
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }
}
