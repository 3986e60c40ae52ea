import Foundation

/// How an item's answer is scored.
public enum Scoring: String, Codable, Sendable {
    /// The greedy answer's first line, compared with the gold answers (see AnswerMatch).
    case exact
    /// Each choice scored by its log-likelihood after the prompt; the most likely one is the answer.
    case choice
}

/// One query of a workload, with its gold answer.
public struct WorkloadItem: Equatable, Sendable {
    public var id: String
    /// arithmetic, factual, classification, instruction, … (used by the rule and learned routers).
    public var task: String
    public var prompt: String
    /// The same question in fewer characters, for a tier that can't read the full prompt
    /// (tiny-math reads only `0-9 + - =`): "35+13=" for "…\n35 + 13 =". Optional.
    public var compactPrompt: String?
    /// Accepted answers (exact), or the one correct choice (choice).
    public var answers: [String]
    public var choices: [String]
    public var scoring: Scoring
    /// Greedy tokens at most for an exact answer.
    public var maxTokens: Int
    /// The line of the file it came from (1-based).
    public var line: Int

    public init(id: String, task: String, prompt: String, compactPrompt: String? = nil, answers: [String], choices: [String] = [],
                scoring: Scoring, maxTokens: Int = 8, line: Int = 0) {
        self.id = id; self.task = task; self.prompt = prompt; self.compactPrompt = compactPrompt; self.answers = answers
        self.choices = choices; self.scoring = scoring; self.maxTokens = maxTokens; self.line = line
    }

    /// Whether `answer` (what a model said) is right.
    public func isCorrect(_ answer: String) -> Bool {
        switch scoring {
        case .exact: return answers.contains { AnswerMatch.matches(answer, gold: $0) }
        case .choice: return answers.first == answer
        }
    }
}

/// A list of items read from JSONL: one JSON object per line, blank lines skipped.
///
///     {"id": "arith-001", "task": "arithmetic", "prompt": "2 + 3 =", "answer": "5", "max_tokens": 6}
///     {"id": "sent-001", "task": "classification", "prompt": "Review: …\nSentiment:",
///      "choices": [" positive", " negative"], "answer": " negative"}
///
/// `answer` is a string or a list of accepted strings; `scoring` is "exact" or
/// "choice" (default: choice when `choices` is given); `id` defaults to "line-N",
/// `task` to "general", `max_tokens` to 8. `compact_prompt` (optional) is the
/// question in a form a tier with a tiny vocabulary can read, e.g. "35+13=":
/// a tier that can't read `prompt` is given it instead.
public struct Workload: Sendable {
    public var name: String
    public var items: [WorkloadItem]

    public init(name: String, items: [WorkloadItem]) { self.name = name; self.items = items }

    /// Parses JSONL text; the first bad line throws an error naming its line number.
    public static func parse(_ text: String, name: String) throws -> Workload {
        var items: [WorkloadItem] = []
        var firstLineOfID: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let item: WorkloadItem
            do {
                item = try parseLine(line, number: lineNumber)
            } catch var e as WorkloadError {
                e.name = name
                throw e
            }
            if let first = firstLineOfID[item.id] {
                throw WorkloadError(name: name, line: lineNumber, reason: "duplicate id '\(item.id)' (first on line \(first))")
            }
            firstLineOfID[item.id] = lineNumber
            items.append(item)
        }
        guard !items.isEmpty else { throw WorkloadError(name: name, line: nil, reason: "no items (one JSON object per line)") }
        return Workload(name: name, items: items)
    }

    static func parseLine(_ line: String, number: Int) throws -> WorkloadItem {
        func fail(_ reason: String) -> WorkloadError { WorkloadError(name: nil, line: number, reason: reason) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        func string(_ key: String) throws -> String? {
            guard let v = object[key] else { return nil }
            guard let s = v as? String else { throw fail("\"\(key)\" must be a string") }
            return s
        }
        func strings(_ key: String) throws -> [String]? {
            guard let v = object[key] else { return nil }
            if let s = v as? String { return [s] }
            guard let list = v as? [Any], !list.isEmpty, list.allSatisfy({ $0 is String }) else {
                throw fail("\"\(key)\" must be a string or a non-empty list of strings")
            }
            return list as? [String]
        }
        guard let prompt = try string("prompt"), !prompt.isEmpty else { throw fail("missing \"prompt\"") }
        let compactPrompt = try string("compact_prompt")
        if compactPrompt?.isEmpty == true { throw fail("\"compact_prompt\" is empty") }
        guard let answers = try strings("answer") else { throw fail("missing \"answer\"") }
        let choices = try strings("choices") ?? []
        let scoringName = try string("scoring") ?? (choices.isEmpty ? "exact" : "choice")
        guard let scoring = Scoring(rawValue: scoringName) else {
            throw fail("unknown scoring '\(scoringName)' (exact or choice)")
        }
        var maxTokens = 8
        if let v = object["max_tokens"] {
            guard let n = v as? Int, (1...256).contains(n), !(v is Bool) else { throw fail("\"max_tokens\" must be a whole number from 1 to 256") }
            maxTokens = n
        }
        if scoring == .choice {
            guard choices.count >= 2 else { throw fail("scoring \"choice\" needs at least two \"choices\"") }
            guard answers.count == 1, choices.contains(answers[0]) else {
                throw fail("\"answer\" must be one of the \"choices\"")
            }
        }
        let id = try string("id") ?? "line-\(number)"
        guard !id.isEmpty else { throw fail("\"id\" is empty") }
        return WorkloadItem(id: id, task: try string("task") ?? "general", prompt: prompt, compactPrompt: compactPrompt, answers: answers,
                            choices: choices, scoring: scoring, maxTokens: maxTokens, line: number)
    }

    /// Reads a file; errors name the file and the line.
    public static func load(_ url: URL) throws -> Workload {
        let name = url.deletingPathExtension().lastPathComponent
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw WorkloadError(name: url.path, line: nil, reason: "can't read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw WorkloadError(name: url.lastPathComponent, line: nil, reason: "not UTF-8 text")
        }
        do {
            return try parse(text, name: name)
        } catch var e as WorkloadError {
            e.name = url.lastPathComponent
            throw e
        }
    }
}

/// A workload that can't be read: the file, the line and what is wrong, in one line.
public struct WorkloadError: Error, CustomStringConvertible, Equatable {
    public var name: String?
    public var line: Int?
    public var reason: String
    public var description: String {
        [name, line.map { "line \($0)" }].compactMap { $0 }.joined(separator: ", ") + (name == nil && line == nil ? "" : ": ") + reason
    }
}

/// How an exact-scored answer is compared with a gold answer.
///
/// Only the first line of the answer counts. Both are lowercased, split into
/// words, and stripped of punctuation around each word; the answer is right
/// when its first words are the gold's words. So " Paris." and "Paris is
/// lovely" match "Paris", while "12" does not match "1", "304" does not match
/// "-304" (a leading minus stays), and "the Sun" does not match "Sun" (list it
/// as a second accepted answer).
public enum AnswerMatch {
    public static func words(_ text: String) -> [String] {
        let firstLine = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let edges = CharacterSet.punctuationCharacters.union(.symbols).union(.whitespaces)
        return firstLine.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" })
            .map { word -> String in
                let trimmed = word.trimmingCharacters(in: edges)
                // A minus sign is part of a number: "-304" is not "304".
                let negative = (word.hasPrefix("-") || word.hasPrefix("−")) && trimmed.first?.isNumber == true
                return negative ? "-" + trimmed : trimmed
            }.filter { !$0.isEmpty }
    }

    public static func matches(_ answer: String, gold: String) -> Bool {
        let g = words(gold)
        let a = words(answer)
        return !g.isEmpty && a.count >= g.count && Array(a.prefix(g.count)) == g
    }
}
