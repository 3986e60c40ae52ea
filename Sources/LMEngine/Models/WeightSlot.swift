/// A named weight matrix of a loaded model. It starts as the file's tensor,
/// read in place; the quantization lab can swap in a re-quantized copy and
/// later put the file's back. Architectures hold slots, so a swap reaches
/// every place the matrix is used.
public final class WeightSlot {
    public let name: String
    /// What the kernels use now.
    public internal(set) var matrix: WeightMatrix
    /// The tensor as stored in the file.
    public let original: WeightMatrix

    init(name: String, matrix: WeightMatrix) {
        self.name = name
        self.matrix = matrix
        self.original = matrix
    }

    /// Bytes of the matrix in use.
    public var bytes: Int { matrix.rows * matrix.rowBytes }
}

extension ComputeContext {
    /// matmul with whatever matrix the slot holds now.
    @inline(__always)
    public func matmul(_ slot: WeightSlot, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int) {
        matmul(slot.matrix, x, y, n: n)
    }
}
