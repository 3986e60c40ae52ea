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
    /// What the last cell (or command) measured; cleared before each cell.
    public private(set) var values: [String: Double] = [:]
    /// Figures a lesson cell kept under its own name (`keep: smol_tg = tg_tps`) for later
    /// cells, verdicts and lesson 10's card; they last the whole session.
    public private(set) var kept: [String: Double] = [:]

    public init() {}

    /// This cell's figure of that name, else a kept one.
    public subscript(name: String) -> Double? {
        get { values[name] ?? kept[name] }
        set { values[name] = newValue }
    }

    public func keep(_ name: String, _ value: Double) { kept[name] = value }

    public func clear() { values = [:] }
    public func clearKept() { kept = [:] }
}
