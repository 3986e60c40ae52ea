import Foundation

/// Small pictures made of Unicode block characters.
public enum Charts {
    /// Eighth blocks, so a bar grows in steps of 1/8 of a column.
    static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
    static let sparks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    /// Shades from empty to full, for heatmaps without colour.
    static let shades: [Character] = [" ", "░", "▒", "▓", "█"]

    /// A bar of `value / maxValue × width` columns, drawn in eighths.
    public static func bar(_ value: Double, max maxValue: Double, width: Int) -> String {
        guard maxValue > 0, value > 0, width > 0, value.isFinite else { return "" }
        let eighthsTotal = Int((min(value, maxValue) / maxValue * Double(width * 8)).rounded())
        return String(repeating: "█", count: eighthsTotal / 8) + eighths[eighthsTotal % 8]
    }

    /// Horizontal bar chart: one row per item, `label  bar  value`.
    ///
    ///     the    ████████████▍ 0.412
    ///     a      ████▏         0.137
    public static func barChart(_ items: [(label: String, value: Double)], width: Int = 30,
                                format: (Double) -> String = { String(format: "%.3f", $0) },
                                console: Console? = nil) -> String {
        guard !items.isEmpty else { return "" }
        let maxValue = items.map(\.value).max() ?? 0
        let labelWidth = items.map { TextUtil.displayWidth($0.label) }.max() ?? 0
        return items.map { item in
            let b = bar(item.value, max: maxValue, width: width)
            let drawn = console.map { $0.styled(b, .cyan) } ?? b
            return TextUtil.pad(item.label, to: labelWidth) + "  " + drawn
                + String(repeating: " ", count: max(0, width - TextUtil.displayWidth(b))) + " " + format(item.value)
        }.joined(separator: "\n")
    }

    /// A sparkline: each value as one of eight heights, min → ▁, max → █.
    /// Non-finite values are drawn as a space.
    public static func sparkline(_ values: [Double]) -> String {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return String(repeating: " ", count: values.count) }
        return String(values.map { v -> Character in
            guard v.isFinite else { return " " }
            if hi == lo { return sparks[3] }
            let i = Int(((v - lo) / (hi - lo) * 7).rounded())
            return sparks[min(7, max(0, i))]
        })
    }

    /// A heatmap of a matrix with values in [0, max]: one character per cell,
    /// drawn twice as wide so cells look square. Without colour it uses shade
    /// blocks; with colour, a 256-colour grey-to-yellow ramp as the background.
    /// `rowLabels` are printed left of each row.
    public static func heatmap(_ matrix: [[Double]], rowLabels: [String]? = nil, console: Console? = nil,
                               maxValue: Double? = nil) -> String {
        let top = maxValue ?? matrix.flatMap { $0 }.filter(\.isFinite).max() ?? 0
        let labelWidth = rowLabels?.map(TextUtil.displayWidth).max() ?? 0
        let colored = console?.useColor ?? false
        // 256-colour ramp: dark grey → white → yellow
        let ramp = [233, 235, 237, 239, 241, 243, 245, 247, 249, 251, 253, 229, 228, 227, 226]
        return matrix.enumerated().map { (r, row) in
            var line = rowLabels.map { TextUtil.pad($0[r], to: labelWidth) + " " } ?? ""
            for v in row {
                let f = top > 0 && v.isFinite ? max(0, min(1, v / top)) : 0
                if colored, let console {
                    line += console.colored("  ", background: ramp[Int((f * Double(ramp.count - 1)).rounded())])
                } else {
                    let s = shades[Int((f * Double(shades.count - 1)).rounded())]
                    line += String([s, s])
                }
            }
            return line.trimmedRight()
        }.joined(separator: "\n")
    }
}
