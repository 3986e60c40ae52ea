import Foundation

/// Where a tier runs and what a call costs.
///
/// On the device a call costs nothing in money and its latency is the wall
/// time measured here. In the (simulated) cloud a call is billed per million input
/// and output tokens (as providers price them), and its latency is the measured compute time plus a
/// simulated network round trip — so every cloud figure is labelled simulated.
/// Over a real API (`load api:`) nothing is simulated: the latency is the call's
/// wall time seen here, network included, and the tokens billed are the server's `usage`.
public struct CostProfile: Codable, Equatable, Sendable {
    public enum Place: String, Codable, Sendable { case device, cloud, api }
    public var place: Place
    /// Network round trip added to each call, in milliseconds (cloud only).
    public var rttMilliseconds: Double
    /// Dollars per million input (prompt) tokens and per million output tokens.
    public var priceInPerMillion: Double
    public var priceOutPerMillion: Double

    public init(place: Place, rttMilliseconds: Double = 0, priceInPerMillion: Double = 0, priceOutPerMillion: Double = 0) {
        self.place = place; self.rttMilliseconds = rttMilliseconds
        self.priceInPerMillion = priceInPerMillion; self.priceOutPerMillion = priceOutPerMillion
    }

    public static let device = CostProfile(place: .device)
    /// A real API model: prices unknown until `cascade tier NAME price_in=… price_out=…` sets them.
    public static let api = CostProfile(place: .api)
    /// The default "cloud LLM": a 350 ms round trip and prices in the range of small hosted models.
    public static let cloud = CostProfile(place: .cloud, rttMilliseconds: 350, priceInPerMillion: 0.5, priceOutPerMillion: 1.5)

    /// Dollars for one call.
    public func cost(inputTokens: Int, outputTokens: Int) -> Double {
        Double(inputTokens) / 1_000_000 * priceInPerMillion + Double(outputTokens) / 1_000_000 * priceOutPerMillion
    }

    /// Seconds for one call that took `computeSeconds` here.
    public func latency(computeSeconds: Double) -> Double {
        computeSeconds + (place == .cloud ? rttMilliseconds / 1000 : 0)
    }

    /// Whether this tier's figures are simulated (cloud) or measured (device, API).
    public var provenance: String { place == .cloud ? "simulated" : "measured" }

    public var summary: String {
        switch place {
        case .device: return "device · $0 · latency measured"
        case .api:
            return String(format: "API · latency measured (network included) · tokens from the server's usage × $%g in / $%g out per 1M tokens",
                          priceInPerMillion, priceOutPerMillion)
        case .cloud:
            return String(format: "cloud (simulated) · RTT %.0f ms · $%g in / $%g out per 1M tokens",
                          rttMilliseconds, priceInPerMillion, priceOutPerMillion)
        }
    }
}

/// One rung of the cascade: a loaded model and its cost profile.
public struct Tier: Codable, Equatable, Sendable {
    public var name: String
    /// The loaded model's name (as `models --loaded` lists it).
    public var model: String
    public var profile: CostProfile

    public init(name: String, model: String, profile: CostProfile) {
        self.name = name; self.model = model; self.profile = profile
    }
}
