import Foundation

/// Session settings (`set KEY VALUE`, `show settings`).
///
/// Each value comes from one of three places, shown by `show settings`:
/// the lab's default, the loaded model (its metadata or its context size),
/// or the user. A user value wins over a model's, a model's over the default.
public final class Settings {
    public enum Kind {
        case integer(ClosedRange<Int>)
        case real(ClosedRange<Double>)
        case choice([String])
    }

    public struct Spec {
        public let name: String
        public let kind: Kind
        public let defaultValue: String
        public let help: String
    }

    public enum Source: String { case lab = "default", model, user }

    public static let specs: [Spec] = [
        Spec(name: "seed", kind: .integer(0...Int(UInt32.max)), defaultValue: "42", help: "random seed for sampling"),
        Spec(name: "temperature", kind: .real(0...5), defaultValue: "0.8", help: "0 = greedy; higher = more random"),
        Spec(name: "top_k", kind: .integer(0...1_000_000), defaultValue: "40", help: "keep the K most likely tokens (0 = off)"),
        Spec(name: "top_p", kind: .real(0...1), defaultValue: "0.95", help: "keep the smallest set with this much probability (1 = off)"),
        Spec(name: "min_p", kind: .real(0...1), defaultValue: "0.05", help: "drop tokens below this share of the top probability (0 = off)"),
        Spec(name: "repeat_penalty", kind: .real(0.1...10), defaultValue: "1.0", help: "divide logits of recent tokens (1 = off)"),
        Spec(name: "max_tokens", kind: .integer(0...1_000_000), defaultValue: "128", help: "new tokens per generation"),
        Spec(name: "threads", kind: .integer(1...256), defaultValue: "2", help: "worker threads for the kernels"),
        Spec(name: "color", kind: .choice(["auto", "off"]), defaultValue: "auto", help: "colour: auto = only on a terminal and never with NO_COLOR; off = never"),
        Spec(name: "kernels", kind: .choice(["fast", "reference"]), defaultValue: "fast", help: "fast SIMD/threaded kernels or the plain reference loops"),
        Spec(name: "activations", kind: .choice(["q8", "f32"]), defaultValue: "q8", help: "quantize activations to 8 bits in dot products as llama.cpp does, or keep f32"),
    ]

    private var user: [String: String] = [:]
    private var model: [String: String] = [:]

    public init() {}

    public static func spec(_ name: String) -> Spec? { specs.first { $0.name == name } }

    /// Checks a raw value against the setting's kind; returns it normalised.
    public static func validate(_ name: String, _ raw: String) throws -> String {
        guard let spec = spec(name) else {
            let hint = Suggest.closest(to: name, in: specs.map(\.name)).map { " — did you mean '\($0)'?" } ?? ""
            throw CommandError.usage("unknown setting '\(TextUtil.sanitize(name))'\(hint)")
        }
        switch spec.kind {
        case .integer(let r):
            guard let v = Int(raw) else { throw CommandError.usage("\(name) expects a whole number, got '\(TextUtil.sanitize(raw))'") }
            guard r.contains(v) else { throw CommandError.usage("\(name) must be between \(r.lowerBound) and \(r.upperBound), got \(v)") }
            return String(v)
        case .real(let r):
            guard let v = Double(raw), v.isFinite else { throw CommandError.usage("\(name) expects a number, got '\(TextUtil.sanitize(raw))'") }
            guard r.contains(v) else { throw CommandError.usage("\(name) must be between \(Settings.format(r.lowerBound)) and \(Settings.format(r.upperBound)), got \(raw)") }
            return Settings.format(v)
        case .choice(let options):
            guard options.contains(raw) else {
                throw CommandError.usage("\(name) must be one of \(options.joined(separator: ", ")), got '\(TextUtil.sanitize(raw))'")
            }
            return raw
        }
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(format: "%.1f", v) : String(v)
    }

    public func set(_ name: String, _ raw: String) throws {
        user[name] = try Settings.validate(name, raw)
    }

    /// Forgets a user value, so the model's or the default applies again.
    public func unset(_ name: String) { user[name] = nil }

    /// Values a loaded model defines; replaces the previous model's.
    public func setModelDefaults(_ values: [String: String]) {
        model = values.filter { (try? Settings.validate($0.key, $0.value)) != nil }
    }

    public func value(_ name: String) -> (value: String, source: Source) {
        if let v = user[name] { return (v, .user) }
        if let v = model[name] { return (v, .model) }
        return (Settings.spec(name)?.defaultValue ?? "", .lab)
    }

    public func string(_ name: String) -> String { value(name).value }
    public func int(_ name: String) -> Int { Int(string(name)) ?? 0 }
    public func double(_ name: String) -> Double { Double(string(name)) ?? 0 }
}
