import Foundation
import XCTest

/// A real `lmlab serve` started on a free loopback port for a test, stopped with Ctrl-C (SIGINT).
final class ServerProcess {
    let process = Process()
    private(set) var port = 0
    private let output = Pipe()
    /// Everything the server printed, once it has stopped.
    private(set) var log = ""

    /// Starts `lmlab serve ARGS --port 0` and waits for its "serving … at http://HOST:PORT/v1" line.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = BinaryRunner.lmlab
        process.arguments = ["serve"] + arguments + ["--port", "0"]
        var env = ProcessInfo.processInfo.environment
        env["LMLAB_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-test-home").path
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var seen = Data()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }   // the server exited
            seen.append(chunk)
            let text = String(decoding: seen, as: UTF8.self)
            if let r = text.range(of: #"at http://[^ ]+:(\d+)/v1"#, options: .regularExpression) {
                let match = String(text[r])
                port = Int(match.split(separator: ":").last!.dropLast(3))!
                log = text
                return
            }
        }
        process.terminate()
        throw NSError(domain: "ServerProcess", code: 1, userInfo: [NSLocalizedDescriptionKey:
            "lmlab serve did not start: \(String(decoding: seen, as: UTF8.self))"])
    }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Ctrl-C, then what it printed; the exit status must be 0.
    @discardableResult
    func stop() -> (status: Int32, log: String) {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        log += String(decoding: rest, as: UTF8.self)
        return (process.terminationStatus, log)
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// Runs a Python script (a path from the package root) with the given environment; its output and status.
enum PythonRunner {
    static func hasModule(_ name: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import \(name)"]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    static func run(_ script: String, arguments: [String] = [], environment: [String: String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", BinaryRunner.packageRoot.appendingPathComponent(script).path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["LMLAB_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-test-home").path
        for (k, v) in environment { env[k] = v }
        p.environment = env
        p.currentDirectoryURL = BinaryRunner.packageRoot
        let out = Pipe()
        p.standardOutput = out; p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
