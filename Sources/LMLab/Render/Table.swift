/// An aligned text table:
///
///     name     type   bytes
///     ───────  ────  ──────
///     q_proj   Q4_1  20,480
///
/// Numeric-looking columns are right-aligned unless told otherwise.
public struct Table {
    public enum Alignment { case left, right }
    public var headers: [String]
    public var rows: [[String]] = []
    public var alignments: [Alignment]?
    /// Spaces between columns.
    public var gap = 2

    public init(_ headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    public func render(console: Console? = nil) -> String {
        let columns = max(headers.count, rows.map(\.count).max() ?? 0)
        func cell(_ r: [String], _ i: Int) -> String { i < r.count ? r[i] : "" }
        var widths = [Int](repeating: 0, count: columns)
        for r in [headers] + rows {
            for i in 0..<columns { widths[i] = max(widths[i], TextUtil.displayWidth(cell(r, i))) }
        }
        let aligns: [Alignment] = (0..<columns).map { i in
            if let a = alignments, i < a.count { return a[i] }
            let values = rows.map { cell($0, i) }.filter { !$0.isEmpty }
            return !values.isEmpty && values.allSatisfy(Table.looksNumeric) ? .right : .left
        }
        let space = String(repeating: " ", count: gap)
        func line(_ r: [String]) -> String {
            (0..<columns).map { i in TextUtil.pad(cell(r, i), to: widths[i], right: aligns[i] == .right) }
                .joined(separator: space).trimmedRight()
        }
        var out: [String] = []
        if !headers.isEmpty {
            let head = line(headers)
            out.append(console.map { $0.styled(head, .bold) } ?? head)
            out.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: space))
        }
        out += rows.map(line)
        return out.joined(separator: "\n")
    }

    static func looksNumeric(_ s: String) -> Bool {
        let t = TextUtil.stripANSI(s)
        guard let first = t.first else { return false }
        return (first.isNumber || first == "-" || first == "+" || first == "±")
            && t.allSatisfy { $0.isNumber || ",.%-+×± eE".contains($0) || $0.isLetter }
            && t.contains(where: \.isNumber)
    }
}

extension String {
    func trimmedRight() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
