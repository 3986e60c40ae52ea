import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `serve … --background`: the lab starts its own binary a second time, as a separate
/// process serving the models over HTTP, and goes on at the prompt. The lab then reaches
/// those models the way it reaches any API — a socket, a request, a stream of events —
/// so what the network and the server add is measured, not simulated.
///
/// The second process is in a process group of its own (Ctrl-C at the lab's prompt stops
/// a `gen`, not the server), writes its log to a file (nothing waits on a pipe), and
/// stops with `serve stop`, or by itself when the lab that started it ends (`--parent`).
final class BackgroundServer {
    let pid: pid_t
    /// Where the server listens, as the lab reaches it: http://127.0.0.1:PORT/v1.
    let baseURL: String
    /// The server's own lines: its start, one per request, its stop.
    let log: URL
    /// The session models it serves, and the API models the lab reached them through.
    let served: [String]
    var apiNames: [String] = []

    private init(pid: pid_t, baseURL: String, log: URL, served: [String]) {
        self.pid = pid; self.baseURL = baseURL; self.log = log; self.served = served
    }

    enum Failure: Error, CustomStringConvertible {
        case notTheLab(String), spawn(Int32), exited(String), timedOut(Double), interrupted
        var description: String {
            switch self {
            case .notTheLab(let p): return "serve --background starts the lmlab binary again; this process is \(p)"
            case .spawn(let e): return "cannot start the server process: \(String(cString: strerror(e)))"
            case .exited(let last): return "the server process stopped before it listened: \(last)"
            case .timedOut(let s): return String(format: "the server process did not start listening within %.0f s", s)
            case .interrupted: return "interrupted"
            }
        }
    }

    /// Starts `lmlab -c "LINES"` (the loads and the `serve` line) and waits until its log
    /// says which port it listens on.
    static func start(lines: [String], served: [String], log: URL, timeout: Double = 120,
                      shouldStop: () -> Bool) throws -> BackgroundServer {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        guard executable.lastPathComponent == "lmlab" else { throw Failure.notTheLab(executable.path) }
        try FileManager.default.createDirectory(at: log.deletingLastPathComponent(), withIntermediateDirectories: true)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own: the terminal's Ctrl-C goes to the lab's group only.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignalsBlocked = sigset_t()
        sigemptyset(&noSignalsBlocked)
        posix_spawnattr_setsigmask(&attributes, &noSignalsBlocked)

        let arguments = [executable.path, "-c", lines.joined(separator: "; ")]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable.path, &actions, &attributes, &argv, environ)
        guard status == 0 else { throw Failure.spawn(status) }

        let started = Date()
        while true {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let url = listeningURL(in: text) {
                return BackgroundServer(pid: pid, baseURL: url, log: log, served: served)
            }
            var exitStatus: Int32 = 0
            if waitpid(pid, &exitStatus, WNOHANG) == pid {
                let last = text.split(separator: "\n").last.map(String.init) ?? "no output"
                throw Failure.exited(TextUtil.sanitize(last))
            }
            if shouldStop() { stop(pid); throw Failure.interrupted }
            if Date().timeIntervalSince(started) > timeout { stop(pid); throw Failure.timedOut(timeout) }
            usleep(50_000)
        }
    }

    /// `serving NAMES at http://HOST:PORT/v1 …` → the URL the lab connects to (a server on
    /// every interface is reached on loopback).
    static func listeningURL(in log: String) -> String? {
        guard let r = log.range(of: #"at http://[^ /]+:[0-9]+/v1"#, options: .regularExpression) else { return nil }
        let url = String(log[r].dropFirst(3))
        return url.replacingOccurrences(of: "//0.0.0.0:", with: "//127.0.0.1:")
    }

    /// Asks the server to stop as Ctrl-C would (SIGINT), then insists after 5 s.
    func stop() { BackgroundServer.stop(pid) }

    static func stop(_ pid: pid_t) {
        kill(pid, SIGINT)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// Whether the process still runs (a server that crashed is reaped here).
    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// The log's last `count` lines.
    func lastLines(_ count: Int) -> [String] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(count).map(String.init)
    }
}
