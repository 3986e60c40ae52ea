import Foundation

/// Summary figures of one tensor's values after dequantization, read row by row
/// from the mapping so even a 167M-element embedding needs only one row of memory.
public struct TensorStatistics: Sendable {
    public let count: Int
    public let min: Float
    public let max: Float
    public let mean: Double
    public let standardDeviation: Double
    /// Values exactly 0 after dequantization.
    public let zeros: Int
    /// `bins` equal-width buckets from min to max (max falls in the last one).
    public let histogram: [Int]

    /// Two passes: min/max/moments first, then the histogram over [min, max].
    public init(gguf: GGUFFile, tensor: GGUFTensorInfo, bins: Int = 20) {
        var lo = Float.infinity, hi = -Float.infinity
        var sum = 0.0, sumSquares = 0.0, zeros = 0
        TensorStatistics.forEachRow(gguf, tensor) { row in
            var rowSum = 0.0, rowSquares = 0.0   // per-row partial sums keep the Double totals accurate
            for v in row {
                lo = Swift.min(lo, v); hi = Swift.max(hi, v)
                rowSum += Double(v); rowSquares += Double(v) * Double(v)
                if v == 0 { zeros += 1 }
            }
            sum += rowSum; sumSquares += rowSquares
        }
        let n = tensor.elementCount
        var histogram = [Int](repeating: 0, count: Swift.max(1, bins))
        if n > 0 {
            let width = Double(hi) - Double(lo)
            let last = histogram.count - 1
            TensorStatistics.forEachRow(gguf, tensor) { row in
                for v in row {
                    let b = width > 0 ? Int((Double(v) - Double(lo)) / width * Double(histogram.count)) : 0
                    histogram[Swift.min(last, Swift.max(0, b))] += 1
                }
            }
        }
        count = n
        min = n > 0 ? lo : 0
        max = n > 0 ? hi : 0
        mean = n > 0 ? sum / Double(n) : 0
        standardDeviation = n > 0 ? Swift.max(0, sumSquares / Double(n) - mean * mean).squareRoot() : 0
        self.zeros = zeros
        self.histogram = histogram
    }

    /// Row r of a tensor (dims[0] values), dequantized.
    public static func row(_ gguf: GGUFFile, _ tensor: GGUFTensorInfo, _ r: Int) -> [Float] {
        let cols = tensor.dims[0]
        let rowBytes = tensor.type.rowBytes(cols) ?? 0
        return [Float](unsafeUninitializedCapacity: cols) { buffer, initialized in
            BlockFormats.dequantizeRow(tensor.type, src: gguf.pointer(to: tensor) + r * rowBytes,
                                       dst: buffer.baseAddress!, count: cols)
            initialized = cols
        }
    }

    static func forEachRow(_ gguf: GGUFFile, _ tensor: GGUFTensorInfo, _ body: (UnsafeBufferPointer<Float>) -> Void) {
        let cols = tensor.dims[0]
        guard cols > 0, let rowBytes = tensor.type.rowBytes(cols) else { return }
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: cols)
        defer { buffer.deallocate() }
        let base = gguf.pointer(to: tensor)
        for r in 0..<tensor.rowCount {
            BlockFormats.dequantizeRow(tensor.type, src: base + r * rowBytes, dst: buffer, count: cols)
            body(UnsafeBufferPointer(start: buffer, count: cols))
        }
    }
}
