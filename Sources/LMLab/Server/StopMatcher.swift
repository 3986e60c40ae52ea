/// Finds the request's `stop` strings in streamed text. Text that could be the
/// start of a stop string is held back until it is known not to be one, so a
/// stream never shows part of a stop string (OpenAI's behaviour: the stop
/// string itself is not returned).
struct StopMatcher {
    let stops: [String]
    /// Text received but not yet released.
    private var held = ""

    init(_ stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Adds text; returns what can be shown now, and whether a stop string was reached
    /// (then the returned text is everything before it, and the rest is dropped).
    mutating func feed(_ text: String) -> (release: String, stopped: Bool) {
        guard !stops.isEmpty else { return (text, false) }
        held += text
        // The earliest complete stop string wins.
        var earliest: String.Index?
        for s in stops {
            if let r = held.range(of: s), earliest.map({ r.lowerBound < $0 }) ?? true { earliest = r.lowerBound }
        }
        if let earliest {
            let out = String(held[..<earliest])
            held = ""
            return (out, true)
        }
        // Hold back the longest tail that is a prefix of some stop string.
        var keep = 0
        for s in stops {
            for n in stride(from: min(s.count - 1, held.count), to: 0, by: -1) where held.hasSuffix(s.prefix(n)) {
                keep = max(keep, n); break
            }
        }
        let cut = held.index(held.endIndex, offsetBy: -keep)
        let out = String(held[..<cut])
        held = String(held[cut...])
        return (out, false)
    }

    /// The held text, released at the end of generation (no stop string came).
    mutating func flush() -> String {
        defer { held = "" }
        return held
    }
}
