import Foundation

/// The lessons shipped in `lessons/NN-slug.md`, found in $LMLAB_LESSONS, ./lessons,
/// or the lessons folder of the checkout the binary was built in.
enum LessonLibrary {
    struct Entry {
        let number: Int
        let slug: String
        let url: URL
    }

    static func folders() -> [URL] {
        var out: [URL] = []
        if let l = ProcessInfo.processInfo.environment["LMLAB_LESSONS"], !l.isEmpty { out.append(URL(fileURLWithPath: l)) }
        out.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("lessons"))
        if let root = ModelLocator.checkoutRoot { out.append(root.appendingPathComponent("lessons")) }
        return out
    }

    /// Every lesson of the first folder that has any, by number.
    static func all() -> [Entry] {
        for folder in folders() {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            let entries: [Entry] = names.compactMap { name in
                guard name.hasSuffix(".md") else { return nil }
                let stem = name.dropLast(3)
                let digits = stem.prefix { $0.isNumber }
                guard let n = Int(digits), stem.dropFirst(digits.count).hasPrefix("-") else { return nil }
                return Entry(number: n, slug: String(stem.dropFirst(digits.count + 1)), url: folder.appendingPathComponent(name))
            }
            if !entries.isEmpty { return entries.sorted { $0.number < $1.number } }
        }
        return []
    }

    /// A lesson by number or slug (or a unique start of the slug).
    static func find(_ word: String) throws -> Entry {
        let lessons = all()
        guard !lessons.isEmpty else { throw CommandError.state("no lessons found (looked in: \(folders().map(\.path).joined(separator: ", ")))") }
        if let n = Int(word) {
            if let e = lessons.first(where: { $0.number == n }) { return e }
            throw CommandError.usage("no lesson \(n) — there are lessons \(lessons.first!.number) to \(lessons.last!.number); 'lessons' lists them")
        }
        let matches = lessons.filter { $0.slug == word } + lessons.filter { $0.slug != word && $0.slug.hasPrefix(word) }
        if let e = matches.first, matches.count == 1 || matches[0].slug == word { return e }
        throw CommandError.usage("no lesson '\(TextUtil.sanitize(TextUtil.truncate(word, to: 40)))' — give its number; 'lessons' lists them")
    }

    /// Reads and checks a notebook file; errors carry file and line.
    static func load(_ url: URL, session: Session, shownAs name: String? = nil) throws -> Notebook {
        let shown = name ?? url.path
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CommandError.failed("can't read '\(TextUtil.sanitize(shown))'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandError.failed("'\(TextUtil.sanitize(shown))' is not UTF-8 text")
        }
        let parser = NotebookParser(knownCommands: Set(session.registry.allNames))
        do { return try parser.parse(text, source: shown) } catch let e as NotebookError {
            throw CommandError.failed(TextUtil.sanitize(e.description))
        }
    }

    /// The path to show for a lesson: relative to the lessons folder's parent.
    static func shownPath(_ entry: Entry) -> String { "lessons/" + entry.url.lastPathComponent }
}
