import Foundation

/// The cost–quality frontier as a character plot: x = share of queries sent to
/// the largest tier (0–100%), y = accuracy. Each series is drawn with its own
/// mark; horizontal lines mark the single-tier baselines.
public struct FrontierChart {
    public struct Series {
        public var name: String
        public var mark: Character
        public var points: [(x: Double, y: Double)]
        public init(name: String, mark: Character, points: [(x: Double, y: Double)]) {
            self.name = name; self.mark = mark; self.points = points
        }
    }
    public var series: [Series] = []
    /// (label, accuracy) of constant baselines, drawn as ─ across the plot.
    public var baselines: [(name: String, y: Double)] = []
    public var width = 50
    public var height = 14

    public init() {}

    public func render() -> String {
        let ys = series.flatMap { $0.points.map(\.y) } + baselines.map(\.y)
        guard var lo = ys.min(), var hi = ys.max() else { return "" }
        // Some room around the data, in whole percent.
        lo = max(0, (lo * 100 - 2).rounded(.down) / 100)
        hi = min(1, (hi * 100 + 2).rounded(.up) / 100)
        if hi <= lo { hi = lo + 0.01 }
        var grid = [[Character]](repeating: [Character](repeating: " ", count: width), count: height)
        func row(_ y: Double) -> Int { height - 1 - Int(((y - lo) / (hi - lo) * Double(height - 1)).rounded()) }
        func column(_ x: Double) -> Int { Int((max(0, min(1, x)) * Double(width - 1)).rounded()) }
        for b in baselines {
            let r = row(b.y)
            for c in 0..<width where grid[r][c] == " " { grid[r][c] = "─" }
        }
        // Later series are drawn over earlier ones.
        for s in series {
            for p in s.points { grid[row(p.y)][column(p.x)] = s.mark }
        }
        var lines: [String] = []
        for (r, cells) in grid.enumerated() {
            let y = hi - (hi - lo) * Double(r) / Double(height - 1)
            let label = r == 0 || r == height - 1 || r == (height - 1) / 2 ? String(format: "%5.1f%% ┤", y * 100) : "       │"
            lines.append(label + String(cells))
        }
        lines.append("       └" + String(repeating: "─", count: width))
        let axis = "0%" + String(repeating: " ", count: max(1, width / 2 - 4)) + "50%"
        lines.append("        " + axis + String(repeating: " ", count: max(1, width - axis.count - 4)) + "100%")
        lines.append("        share of queries sent to the largest tier")
        var legend = series.map { "\($0.mark) \($0.name)" }
        legend += baselines.map { "─ \($0.name) \(String(format: "%.1f%%", $0.y * 100))" }
        lines.append("        " + legend.joined(separator: "   "))
        return lines.joined(separator: "\n")
    }
}
