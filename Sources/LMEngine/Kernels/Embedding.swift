/// Embedding lookup: dequantize row `token` of the table into out[cols].
/// table: [vocab × cols] of any supported type; out: [cols] f32.
public func embeddingRow(_ table: WeightMatrix, token: Int, out: UnsafeMutablePointer<Float>) {
    precondition(token >= 0 && token < table.rows, "token \(token) outside the embedding table (\(table.rows) rows)")
    guard table.interleaved != nil else {
        return BlockFormats.dequantizeRow(table.type, src: table.row(token), dst: out, count: table.cols)
    }
    // A tied head's table: the row from the kernels' copy (`storedRow`).
    withUnsafeTemporaryAllocation(byteCount: table.rowBytes, alignment: 16) { row in
        table.storedRow(token, into: row.baseAddress!)
        BlockFormats.dequantizeRow(table.type, src: UnsafeRawPointer(row.baseAddress!), dst: out, count: table.cols)
    }
}
