import Foundation
import LMEngine

/// Answers already computed, per (model, quantization, item), kept in the lab's
/// state folder so a sweep — or the next run — asks each model once per query.
///
/// One JSON file per model key under `<home>/cascade-cache/`, mapping an item
/// key (a hash of everything that shapes the answer: scoring, prompt, choices,
/// token limit) to the TierAnswer, measured seconds included.
public final class AnswerCache {
    public let folder: URL
    private var answers: [String: [String: TierAnswer]] = [:]
    private var changed: Set<String> = []

    public init(folder: URL) { self.folder = folder }

    public func answer(model: String, item: WorkloadItem) -> TierAnswer? {
        load(model)[AnswerCache.key(item)]
    }

    public func store(_ answer: TierAnswer, model: String, item: WorkloadItem) {
        _ = load(model)
        answers[model, default: [:]][AnswerCache.key(item)] = answer
        changed.insert(model)
    }

    /// Writes the files of the models with new answers.
    public func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for model in changed.sorted() {
            let data = try encoder.encode(answers[model] ?? [:])
            try AtomicWrite.write(data, to: file(model))
        }
        changed.removeAll()
    }

    /// Forgets every stored answer (the files too).
    public func clear() throws {
        answers = [:]; changed = []
        if FileManager.default.fileExists(atPath: folder.path) { try FileManager.default.removeItem(at: folder) }
    }

    private func load(_ model: String) -> [String: TierAnswer] {
        if let loaded = answers[model] { return loaded }
        // An unreadable file (older format, damaged) is treated as empty and rewritten.
        let data = FileManager.default.contents(atPath: file(model).path)
        let read = data.flatMap { try? JSONDecoder().decode([String: TierAnswer].self, from: $0) } ?? [:]
        answers[model] = read
        return read
    }

    func file(_ model: String) -> URL {
        let readable = String(model.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }.prefix(60))
        return folder.appendingPathComponent("\(readable)-\(AnswerCache.hash(model)).json")
    }

    public static func key(_ item: WorkloadItem) -> String {
        // The compact prompt joins the key only when there is one, so items without it keep their cached answers.
        hash(([item.scoring.rawValue, String(item.maxTokens), item.prompt, item.choices.joined(separator: "\u{1F}")]
                + (item.compactPrompt.map { ["compact:" + $0] } ?? []))
                .joined(separator: "\u{1E}"))
    }

    /// FNV-1a, 64 bits, as 16 hex digits: stable across runs and machines (Swift's Hasher is not).
    public static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(format: "%016llx", h)
    }
}
