import Foundation

/// What the cascade commands keep in a session: the tiers the user set up with
/// `cascade tier`, and the last run (for `cascade explain`).
public final class CascadeState {
    /// Tiers set with `cascade tier NAME …`, by tier name.
    public var configured: [String: Tier] = [:]
    public var lastRun: LastRun?

    public struct LastRun {
        public var workload: String
        public var records: [ItemRecord]
        public var analysis: CascadeAnalysis
    }

    public init() {}
}
