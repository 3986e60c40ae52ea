import Foundation
import XCTest

/// Runs the real `lmlab` binary built beside this test bundle.
enum BinaryRunner {
    static var lmlab: URL {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("lmlab"),
                          dir.deletingLastPathComponent().appendingPathComponent("lmlab")] {
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return packageRoot.appendingPathComponent(".build/release/lmlab")
    }

    static var packageRoot: URL { LabPaths.packageRoot }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs lmlab with arguments and optional stdin text; stdout/stderr are pipes, not a terminal.
    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = lmlab
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["LMLAB_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-test-home").path
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }
}
