import Foundation

/// What a session has run, for `save FILE.md|FILE.ipynb`: each command that
/// succeeded with the plain text it printed (errors and notes included).
/// Commands about the notebook itself (`save`, `open`, `lesson`, …) are left out;
/// the commands a lesson or `open` runs are recorded one by one.
public final class Transcript {
    public struct Entry: Equatable {
        public let command: String
        public let output: String
    }

    public private(set) var entries: [Entry] = []
    public let started = Date()

    public init() {}

    func append(command: String, output: String) {
        entries.append(Entry(command: command, output: output))
    }
}

/// Figures the last commands measured, by name (`decode_tps`, `ppl`, …), so a
/// lesson cell can check them: `expect: decode_tps > 0`.
public final class Figures {
    public private(set) var values: [String: Double] = [:]

    public init() {}

    public subscript(name: String) -> Double? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public func clear() { values = [:] }
}
