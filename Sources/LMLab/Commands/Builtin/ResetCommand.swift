import Foundation

/// `reset`: clears what the lab keeps between runs under LMLAB_HOME — the cascade's
/// answer cache, the measured memory bandwidth, lessons' scratch files — and this
/// session's kept figures and drill answers, saying what it removed. Pulled models
/// and the command history stay.
struct ResetCommand: Command {
    let name = "reset"
    let topic = Topic.session
    let summary = "clear the lab's caches and lesson scratch files (under LMLAB_HOME) between demos"
    let usage = "reset"
    let positionals: ClosedRange<Int>? = 0...0
    let recordsInTranscript = false

    func run(_ args: Arguments, session: Session) throws {
        let fm = FileManager.default
        let home = session.home
        var targets = [home.appendingPathComponent("cascade-cache"), LabPath.scratch(home: home)]
        let bandwidth = ((try? fm.contentsOfDirectory(atPath: home.path)) ?? [])
            .filter { $0.hasPrefix("bandwidth-") && $0.hasSuffix(".txt") }.sorted()
        targets += bandwidth.map { home.appendingPathComponent($0) }
        var removed: [String] = []
        for url in targets where fm.fileExists(atPath: url.path) {
            let size = ResetCommand.bytes(at: url)
            do { try fm.removeItem(at: url) } catch {
                throw CommandError.failed("can't remove \(url.path): \(TextUtil.reason(for: error))")
            }
            removed.append("\(url.path) (\(TextUtil.bytes(size)))")
        }
        let kept = session.figures.kept.count, answers = session.drillAnswers.count
        session.figures.clearKept()
        session.drillAnswers = []
        let console = session.console
        if removed.isEmpty {
            console.line("nothing to remove under \(home.path)")
        } else {
            console.line("removed:")
            for r in removed { console.line("  " + r) }
        }
        console.line("forgot \(kept) kept figure\(kept == 1 ? "" : "s") and \(answers) drill answer\(answers == 1 ? "" : "s"); "
                     + "pulled models and the history stay")
    }

    static func bytes(at url: URL) -> Int {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else { return 0 }
        guard isDir.boolValue else { return (try? fm.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0 }
        let files = fm.enumerator(atPath: url.path)?.compactMap { $0 as? String } ?? []
        return files.reduce(0) { $0 + ((try? fm.attributesOfItem(atPath: url.appendingPathComponent($1).path)[.size] as? Int) ?? 0) }
    }
}
