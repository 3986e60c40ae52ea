import Foundation
import XCTest

/// Drives the real lmlab binary in a real pseudo-terminal through tmux:
/// keys go in with send-keys, and the screen comes back with capture-pane.
final class TerminalSession {
    let socket = "lmlab-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let name = "lab"
    let home: URL

    /// `fileSizeLimit`: `ulimit -f` for the lab (in the shell's blocks: 1024 bytes in
    /// bash, 512 in dash), so that writing a file past it fails as on a full disk.
    /// `exitStatusFile`: the lab's exit status is written there, and the shell
    /// ignores SIGHUP so that it outlives the terminal to write it (as under nohup).
    init(arguments: [String] = [], width: Int = 100, height: Int = 40, environment: [String: String] = [:],
         fileSizeLimit: Int? = nil, exitStatusFile: URL? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            throw XCTSkip("tmux is not installed (make test installs it)")
        }
        home = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-pty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        var env = ["LMLAB_HOME": home.path, "LANG": "C.UTF-8", "TERM": "xterm-256color"]
        for (k, v) in environment { env[k] = v }
        let exports = env.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        let command = (fileSizeLimit.map { "ulimit -f \($0); " } ?? "") + (exitStatusFile == nil ? "" : "trap '' HUP; ")
            + "env \(exports) '\(BinaryRunner.lmlab.path)' " + arguments.map { "'\($0)'" }.joined(separator: " ")
            + (exitStatusFile.map { "; echo $? > '\($0.path)'" } ?? "") + "; echo '[exited]' $?; sleep 30"
        // A long history, so `transcript()` has a whole lesson and not only the last screen.
        try tmux(["start-server", ";", "set-option", "-g", "history-limit", "100000", ";",
                  "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command], capture: false)
    }

    /// Closes the terminal under the lab, as closing its window does.
    func closeTerminal() throws { try tmux(["kill-server"], capture: false) }

    deinit {
        _ = try? tmux(["kill-server"], capture: false)
        try? FileManager.default.removeItem(at: home)
    }

    /// Runs tmux with posix_spawn and waitpid. (Foundation's Process left the
    /// tmux client unreaped here: the client forks the server and exits.)
    @discardableResult
    func tmux(_ args: [String], capture: Bool = true) throws -> String {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw XCTSkip("pipe() failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // The first call starts the tmux server, which inherits the client's
        // stdout: it must not be our pipe, or reading would never end.
        if capture { posix_spawn_file_actions_adddup2(&actions, fds[1], 1) }
        else { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv = (["tmux", "-L", socket] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/tmux", &actions, nil, argv, environ)
        close(fds[1])
        guard rc == 0 else { close(fds[0]); throw XCTSkip("could not start tmux (\(rc))") }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n > 0 { data += buffer[0..<n] } else if n < 0 && errno == EINTR { continue } else { break }
        }
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return String(decoding: data, as: UTF8.self)
    }

    /// Sends tmux key names ("Enter", "Up", "C-c", "Tab") or literal text.
    func keys(_ keys: String..., literal: Bool = false) throws {
        try tmux(["send-keys", "-t", name] + (literal ? ["-l"] : []) + keys)
    }

    func type(_ text: String) throws { try tmux(["send-keys", "-t", name, "-l", text]) }

    /// The visible screen, trailing blank lines removed.
    func screen() throws -> String {
        var s = try tmux(["capture-pane", "-t", name, "-p"])
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    /// Everything the terminal showed, scrolled-off history included, with lines the
    /// terminal wrapped joined back (-J), trailing blank lines removed.
    func transcript() throws -> String {
        var s = try tmux(["capture-pane", "-t", name, "-p", "-J", "-S", "-"])
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    /// The last non-empty line of the screen (where the prompt is).
    func lastLine() throws -> String {
        try screen().split(separator: "\n").last.map(String.init) ?? ""
    }

    /// Waits until the screen satisfies `condition`; fails with the screen if it never does.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 15, every interval: Double = 0.05, file: StaticString = #filePath,
                 line: UInt = #line, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            usleep(UInt32(interval * 1_000_000))
        }
        XCTFail("timed out waiting for \(what); screen:\n\(last)", file: file, line: line)
        return last
    }

    func waitForText(_ text: String, timeout: Double = 15, file: StaticString = #filePath, line: UInt = #line) throws {
        try waitFor("'\(text)'", timeout: timeout, file: file, line: line) { $0.contains(text) }
    }

    func count(_ text: String) throws -> Int { try screen().components(separatedBy: text).count - 1 }
}
