import Foundation

/// `cascade tier`: list the tiers; `cascade tier NAME key=value …`: set one up.
///
///     cascade tier big model=big where=cloud rtt_ms=350 price_in=0.5 price_out=1.5     (dollars per 1M tokens)
///     cascade tier small where=device
///     cascade tier big remove
///     cascade tier remote price_in=0.15 price_out=0.6      (an API model: where is api)
///
/// Without any set up, every loaded model is a tier, cheapest (fewest
/// parameters) first; the largest runs in the simulated cloud, the others on the device.
enum CascadeTierAction {
    static func run(_ args: Arguments, session: Session) throws {
        let words = args.positionals
        if let name = words.first {
            try configure(name, Array(words.dropFirst()), session: session)
        }
        let tiers = CascadeTierAction.tiers(session: session, names: nil, allowOne: true)
        if tiers.isEmpty {
            session.console.line("no tiers: load two models, e.g. 'load smollm2' then 'load gemma3'")
            return
        }
        if args.json { return session.console.line(try JSONText.encode(tiers)) }
        var t = Table(["#", "tier", "model", "where", "round trip", "$ in / 1M tok", "$ out / 1M tok", "figures"])
        for (i, tier) in tiers.enumerated() {
            let p = tier.profile
            let roundTrip: String
            switch p.place {
            case .cloud: roundTrip = String(format: "%.0f ms", p.rttMilliseconds)
            case .api: roundTrip = session.models.api(tier.model).map { String(format: "%.0f ms measured", $0.loadRoundTrip * 1000) } ?? "measured"
            case .device: roundTrip = "–"
            }
            t.add(["\(i + 1)", tier.name, tier.model, p.place == .cloud ? "cloud (simulated)" : p.place == .api ? "API" : "device",
                   roundTrip, String(format: "%g", p.priceInPerMillion), String(format: "%g", p.priceOutPerMillion),
                   CascadeReportView.figuresNote(p.place)])
        }
        session.console.line(t.render(console: session.console))
    }

    static func configure(_ name: String, _ settings: [String], session: Session) throws {
        if settings == ["remove"] {
            guard session.cascade.configured.removeValue(forKey: name) != nil else {
                throw CommandError.usage("no tier '\(TextUtil.sanitize(name))' was set up")
            }
            return
        }
        let defaults = tiers(session: session, names: nil, allowOne: true).first { $0.name == name }
        var tier = session.cascade.configured[name] ?? defaults
            ?? Tier(name: name, model: name, profile: session.models.api(name) != nil ? .api : .device)
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw CommandError.usage("'\(TextUtil.sanitize(setting))' is not key=value (model, where, rtt_ms, price_in, price_out)")
            }
            let (key, value) = (parts[0], parts[1])
            func number() throws -> Double {
                guard let v = Double(value), v.isFinite, v >= 0 else {
                    throw CommandError.usage("\(key) expects a number ≥ 0, got '\(TextUtil.sanitize(value))'")
                }
                return v
            }
            switch key {
            case "model":
                tier.model = value
                // A tier moved onto an API model goes where that model is.
                if session.models.api(value) != nil { tier.profile.place = .api }
                else if tier.profile.place == .api { tier.profile.place = .device }
            case "where":
                guard let place = CostProfile.Place(rawValue: value) else {
                    throw CommandError.usage("where is device, cloud or api, got '\(TextUtil.sanitize(value))'")
                }
                tier.profile.place = place
            case "rtt_ms": tier.profile.rttMilliseconds = try number()
            // Dollars per million tokens, the unit providers quote.
            case "price_in": tier.profile.priceInPerMillion = try number()
            case "price_out": tier.profile.priceOutPerMillion = try number()
            default:
                let keys = ["model", "where", "rtt_ms", "price_in", "price_out"]
                let hint = Suggest.closest(to: key, in: keys).map { " — did you mean '\($0)'?" } ?? ""
                throw CommandError.usage("unknown tier setting '\(TextUtil.sanitize(key))'\(hint); one of: " + keys.joined(separator: ", "))
            }
        }
        // An API model runs only where it is; a local one can't be an API.
        if session.models.api(tier.model) != nil, tier.profile.place != .api {
            throw CommandError.usage("tier \(name): \(tier.model) is an API model, so where=api (it can't run on the device or a simulated cloud)")
        }
        if session.models[tier.model] != nil, tier.profile.place == .api {
            throw CommandError.usage("tier \(name): where=api needs an API model (load api:URL#MODEL); \(tier.model) is local")
        }
        guard session.models[tier.model] != nil || session.models.api(tier.model) != nil else {
            throw CommandError.state("tier \(name): no loaded model named '\(TextUtil.sanitize(tier.model))' (loaded: "
                                     + (session.models.names.isEmpty ? "none" : session.models.names.joined(separator: ", ")) + ")")
        }
        session.cascade.configured[name] = tier
    }

    /// The tiers a run uses, cheapest first. `names` picks tiers (by tier or model name) in that order.
    /// API models come after the local ones; with one loaded, no local tier is simulated as a cloud.
    static func tiers(session: Session, names: [String]?, allowOne: Bool = false) -> [Tier] {
        let loaded = session.models.all.sorted { $0.parameterCount < $1.parameterCount }
        let largest = session.models.remote.isEmpty ? loaded.last?.name : nil
        var tiers: [Tier] = []
        for m in loaded {
            let set = session.cascade.configured.values.filter { $0.model == m.name }.sorted { $0.name < $1.name }
            tiers += set.isEmpty ? [Tier(name: m.name, model: m.name, profile: m.name == largest && loaded.count > 1 ? .cloud : .device)] : set
        }
        for a in session.models.remote {
            let set = session.cascade.configured.values.filter { $0.model == a.name }.sorted { $0.name < $1.name }
            tiers += set.isEmpty ? [Tier(name: a.name, model: a.name, profile: .api)] : set
        }
        guard let names else { return tiers }
        return names.compactMap { n in tiers.first { $0.name == n } ?? tiers.first { $0.model == n } }
    }
}
