/// An aligned text table:
///
///     name     type   bytes
///     ───────  ────  ──────
///     q_proj   Q4_1  20,480
///
/// Numeric-looking columns are right-aligned unless told otherwise.
///
/// On a terminal narrower than the table, the widest text column gives up columns
/// (its cells end in …) until the table fits, so no line wraps in the middle of a
/// word; numbers are never cut, since a cut number reads as another number. Without
/// a terminal the table keeps its full width, as scripts and checks read it.
public struct Table {
    public enum Alignment { case left, right }
    public var headers: [String]
    public var rows: [[String]] = []
    public var alignments: [Alignment]?
    /// Spaces between columns.
    public var gap = 2
    /// Columns the table may take at most; nil: the console's width on a terminal, else no limit.
    public var maxWidth: Int?
    /// A text column is never narrowed below this (its header may be cut too).
    static let narrowestColumn = 8

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
        if let limit = maxWidth ?? console.flatMap({ $0.isTerminal ? $0.width : nil }) {
            widths = Table.fit(widths, aligns: aligns, gap: gap, limit: limit)
        }
        let space = String(repeating: " ", count: gap)
        func line(_ r: [String]) -> String {
            (0..<columns).map { i in
                TextUtil.pad(TextUtil.truncateStyled(cell(r, i), to: widths[i]), to: widths[i], right: aligns[i] == .right)
            }.joined(separator: space).trimmedRight()
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

    /// Column widths that fit `limit`: the widest left-aligned (text) column loses a
    /// column at a time, down to `narrowestColumn`; what still doesn't fit stays as is.
    static func fit(_ natural: [Int], aligns: [Alignment], gap: Int, limit: Int) -> [Int] {
        var widths = natural
        var total = widths.reduce(0, +) + gap * max(0, widths.count - 1)
        while total > limit {
            let narrowable = widths.indices.filter { aligns[$0] == .left && widths[$0] > narrowestColumn }
            guard let widest = narrowable.max(by: { widths[$0] < widths[$1] }) else { break }
            widths[widest] -= 1
            total -= 1
        }
        return widths
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
