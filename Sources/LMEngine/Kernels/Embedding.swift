/// Embedding lookup: dequantize row `token` of the table into out[cols].
/// table: [vocab × cols] of any supported type; out: [cols] f32.
public func embeddingRow(_ table: WeightMatrix, token: Int, out: UnsafeMutablePointer<Float>) {
    precondition(token >= 0 && token < table.rows, "token \(token) outside the embedding table (\(table.rows) rows)")
    BlockFormats.dequantizeRow(table.type, src: table.row(token), dst: out, count: table.cols)
}
