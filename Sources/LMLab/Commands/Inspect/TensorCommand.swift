import Foundation
import LMEngine

/// `tensor NAME [row I]`: one tensor of the loaded file — shape, type, size and
/// what its dequantized values look like.
struct TensorCommand: Command {
    let name = "tensor"
    let topic = Topic.inspect
    let summary = "one tensor's shape, type, bytes, value statistics and histogram (Tab completes names)"
    let usage = "tensor NAME [row I] [--bins N] [--json]"
    let examples = ["tensor blk.0.attn_q.weight", "tensor token_embd.weight row 7042", "tensor output_norm.weight --json"]
    let flags = [
        Arguments.Flag("bins", value: "N", "histogram buckets (default 20)"),
        Arguments.Flag.json("with the figures"),
    ]

    struct JSONOutput: Codable {
        var name: String; var shape: [Int]; var type: String; var bytes: Int; var elements: Int
        var min: Float; var max: Float; var mean: Double; var std: Double; var zeros: Int
        var histogram: [Int]; var first_values: [Float]
    }
    struct JSONRow: Codable { var name: String; var row: Int; var values: [Float] }

    func complete(_ previous: [String], session: Session) -> [String] {
        if previous.isEmpty { return session.model?.model.gguf.tensors.map(\.name) ?? [] }
        return previous.count == 1 ? ["row"] : []
    }

    func run(_ args: Arguments, session: Session) throws {
        let loaded = try session.requireModel()
        let gguf = loaded.model.gguf
        guard let word = args.positional(0) else {
            throw CommandError.usage("tensor needs a name, e.g. tensor blk.0.attn_q.weight (Tab completes names)")
        }
        guard let info = gguf.tensor(named: word) else {
            let names = gguf.tensors.map(\.name)
            let guess = Suggest.closest(to: word, in: names) ?? names.first { $0.contains(word) }
            throw CommandError.usage("no tensor named '\(TextUtil.sanitize(TextUtil.truncate(word, to: 60)))'"
                                     + (guess.map { " — did you mean '\($0)'?" } ?? " — Tab completes names"))
        }
        guard BlockFormats.isSupported(info.type), !info.dims.isEmpty, info.dims[0] > 0 else {
            throw CommandError.failed("\(info.name) is \(info.type.name), which the engine can't dequantize")
        }
        let console = session.console
        let json = args.json

        if args.positionals.count > 1 {
            guard args.positionals.count == 3, args.positionals[1] == "row", let r = Int(args.positionals[2]) else {
                throw CommandError.usage("usage: tensor NAME row I")
            }
            guard (0..<info.rowCount).contains(r) else {
                throw CommandError.usage("row \(args.positionals[2]) is out of range: \(info.name) has rows 0…\(info.rowCount - 1)")
            }
            let values = TensorStatistics.row(gguf, info, r)
            if json { console.line(try JSONText.encode(JSONRow(name: info.name, row: r, values: values))); return }
            console.line("\(info.name) row \(r) (\(values.count) values, \(info.type.name) dequantized):")
            console.line(TensorCommand.columns(values))
            return
        }

        let bins: Int = try args.number("bins", in: 1...200) ?? 20
        let stats = TensorStatistics(gguf: gguf, tensor: info, bins: bins)
        let first = Array(TensorStatistics.row(gguf, info, 0).prefix(8))
        let largest = max(abs(Double(stats.min)), abs(Double(stats.max)))
        session.figures["bits_per_weight"] = Double(info.byteCount * 8) / Double(max(1, stats.count))
        session.figures["tensor_std"] = stats.standardDeviation
        session.figures["tensor_largest"] = largest
        session.figures["near_zero_pct"] = TensorCommand.nearZeroShare(gguf, info, largest: largest) * 100
        if json {
            console.line(try JSONText.encode(JSONOutput(
                name: info.name, shape: Array(info.dims.reversed()), type: info.type.name, bytes: info.byteCount,
                elements: stats.count, min: stats.min, max: stats.max, mean: stats.mean, std: stats.standardDeviation,
                zeros: stats.zeros, histogram: stats.histogram, first_values: first)))
            return
        }

        // PyTorch order (rows first); GGUF lists ne0, the row length, first.
        let shape = info.dims.reversed().map { TextUtil.grouped($0) }.joined(separator: " × ")
        var t = Table([], alignments: [.left, .left])
        t.add(["shape", shape + (info.dims.count > 1 ? " (\(TextUtil.grouped(info.rowCount)) rows of \(TextUtil.grouped(info.dims[0])))" : "")])
        t.add(["type", info.type.name + String(format: " (%.2f bits per weight)", Double(info.byteCount * 8) / Double(max(1, stats.count)))])
        t.add(["bytes", TextUtil.bytes(info.byteCount) + " (\(TextUtil.grouped(info.byteCount)))"])
        t.add(["elements", TextUtil.grouped(stats.count)])
        t.add(["min / max", TensorCommand.number(stats.min) + " / " + TensorCommand.number(stats.max)])
        t.add(["mean ± std", TensorCommand.number(stats.mean) + " ± " + TensorCommand.number(stats.standardDeviation)])
        t.add(["exact zeros", TextUtil.grouped(stats.zeros)
               + String(format: " (%.2f%%)", Double(stats.zeros) / Double(max(1, stats.count)) * 100)])
        console.line(console.styled(info.name, .bold))
        console.line(t.render())
        console.line()
        console.line("histogram of the dequantized values (\(bins) equal buckets from min to max):")
        let width = (Double(stats.max) - Double(stats.min)) / Double(bins)
        let items = stats.histogram.enumerated().map { (i, n) in
            (label: TensorCommand.number(Double(stats.min) + Double(i) * width, width: 9) + " … "
                + TensorCommand.number(Double(stats.min) + Double(i + 1) * width, width: 9), value: Double(n))
        }
        console.line(Charts.barChart(items, width: 40, format: { TextUtil.grouped(Int($0)) }, console: console))
        console.line()
        console.line("first values: " + first.map { TensorCommand.number($0) }.joined(separator: "  "))
    }

    /// The share of values within a tenth of the largest magnitude from zero: how much
    /// of the tensor a "narrow bell" puts near zero, measured rather than read off the bars.
    static func nearZeroShare(_ gguf: GGUFFile, _ info: GGUFTensorInfo, largest: Double) -> Double {
        var near = 0, all = 0
        for r in 0..<info.rowCount {
            let row = TensorStatistics.row(gguf, info, r)
            near += row.reduce(0) { abs(Double($1)) <= largest / 10 ? $0 + 1 : $0 }
            all += row.count
        }
        return all > 0 ? Double(near) / Double(all) : 0
    }

    /// A value short enough for a table: 4 significant digits.
    static func number<T: BinaryFloatingPoint>(_ v: T, width: Int = 0) -> String {
        let s = String(format: "%.4g", v == 0 ? 0 : Double(v))   // no "-0"
        return width > 0 ? TextUtil.pad(s, to: width, right: true) : s
    }

    /// Values eight to a line, each line led by the index of its first value.
    static func columns(_ values: [Float]) -> String {
        stride(from: 0, to: values.count, by: 8).map { start in
            TextUtil.pad("\(start)", to: 6, right: true) + "  "
                + values[start..<min(values.count, start + 8)].map { number($0, width: 10) }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}
