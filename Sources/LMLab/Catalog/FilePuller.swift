import Foundation
import LMEngine

/// `pull URL` and `pull PATH`: a GGUF file from a web address (a Hugging Face
/// `…/resolve/main/NAME.gguf` link, say) or from elsewhere on this machine, copied
/// into the models folder. Written to `NAME.gguf.partial`, checked to be a GGUF
/// file the engine can read, and only then renamed — never a half file under the
/// final name. Downloads go through python3's urllib, which `pull` needs anyway.
struct FilePuller {
    let source: String
    let folder: URL

    var isWebAddress: Bool { source.hasPrefix("https://") || source.hasPrefix("http://") }

    /// The file name in the models folder.
    var fileName: String {
        let last = isWebAddress
            ? (URL(string: source)?.lastPathComponent ?? "model.gguf")
            : URL(fileURLWithPath: (source as NSString).expandingTildeInPath).lastPathComponent
        return last.hasSuffix(".gguf") ? last : last + ".gguf"
    }

    func pull(shouldStop: () -> Bool, say: (String) -> Void) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        let final = folder.appendingPathComponent(fileName)
        let partial = folder.appendingPathComponent(fileName + ".partial")
        try? fm.removeItem(at: partial)
        var done = false
        defer { if !done { try? fm.removeItem(at: partial) } }
        if isWebAddress {
            say("downloading \(TextUtil.sanitize(source))…")
            try ModelPuller.runProcess(["python3", "-c", FilePuller.downloadScript, source, partial.path],
                                       failure: "could not download \(TextUtil.sanitize(source))", shouldStop: shouldStop)
        } else {
            // Resolved first: copyItem copies a symbolic link as a link, and the
            // models folder must get the file itself.
            let from = URL(fileURLWithPath: (source as NSString).expandingTildeInPath).resolvingSymlinksInPath()
            guard fm.fileExists(atPath: from.path) else { throw CommandError.failed("no file at '\(TextUtil.sanitize(source))'") }
            guard from.standardizedFileURL.resolvingSymlinksInPath() != final.standardizedFileURL.resolvingSymlinksInPath() else {
                throw CommandError.usage("'\(TextUtil.sanitize(source))' is already in the models folder")
            }
            say("copying \(TextUtil.sanitize(source))…")
            do { try fm.copyItem(at: from, to: partial) } catch {
                throw CommandError.failed("could not copy '\(TextUtil.sanitize(source))': \(TextUtil.reason(for: error))")
            }
        }
        if shouldStop() { throw CommandError.interrupted }
        say("checking that it is a GGUF file lmlab can read…")
        do { _ = try GGUFFile(url: partial) } catch {
            throw CommandError.failed("\(fileName) is not a usable GGUF file (\(TextUtil.sanitize(String(describing: error)))) — discarded")
        }
        if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
        try fm.moveItem(at: partial, to: final)
        done = true
        return final
    }

    static let downloadScript = """
        import shutil, sys, urllib.request
        req = urllib.request.Request(sys.argv[1], headers={"User-Agent": "lmlab"})
        with urllib.request.urlopen(req, timeout=60) as src, open(sys.argv[2], "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        """
}
