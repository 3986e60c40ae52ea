import Foundation

/// What an architecture's init reads its model through: the file, the tokenizer and
/// the load options, plus the bookkeeping every model shares — each matrix becomes a
/// `WeightSlot` the quantization lab can swap, each small vector and scratch buffer is
/// owned (and freed) by the model.
///
/// Every read checks the tensor's shape against the figures the config gives, so an
/// architecture that reads its tensors before `super.init` has checked each width the
/// activation buffers are sized by: corrupt metadata fails here, not as a huge allocation.
public final class ModelBuilder {
    public let gguf: GGUFFile
    public let tokenizer: Tokenizer
    /// Requested context (nil: the model's own); capped at the model's.
    public let contextLength: Int?
    public let threads: Int
    /// Matrices read so far, in order (token_embd and output first, added by DecoderModel).
    private(set) var slots: [WeightSlot] = []
    /// Vectors and buffers the model will own.
    private(set) var owned: [UnsafeMutablePointer<Float>] = []

    public init(gguf: GGUFFile, tokenizer: Tokenizer, contextLength: Int? = nil, threads: Int = 2) {
        self.gguf = gguf
        self.tokenizer = tokenizer
        self.contextLength = contextLength
        self.threads = threads
    }

    deinit {
        // Reached with memory still here only when the model's init threw before adopting it.
        for p in owned { p.deallocate() }
    }

    /// Whether the file has a tensor of that name (optional tensors: biases, rope factors).
    public func has(_ name: String) -> Bool { gguf.tensor(named: name) != nil }

    /// The matrix `name`, [rows × cols], read in place and registered as a swappable slot.
    public func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightSlot {
        let slot = WeightSlot(name: name, matrix: try ModelBuilder.matrix(gguf, name, rows: rows, cols: cols))
        slots.append(slot)
        return slot
    }

    /// The vector `name` of `count` floats (a norm's weights, a bias), dequantized into owned memory.
    public func vector(_ name: String, count: Int) throws -> UnsafeMutablePointer<Float> {
        keep(try ModelBuilder.vector(gguf, name, count: count))
    }

    /// `vector(name, count:)` when the file has it, nil when it doesn't.
    public func optionalVector(_ name: String, count: Int) throws -> UnsafeMutablePointer<Float>? {
        has(name) ? try vector(name, count: count) : nil
    }

    /// A zeroed scratch buffer of `count` floats the model owns: an architecture's extra
    /// activations, beside the shared ones in DecoderModel (x, xn, q, k, v, attn, gate, up).
    public func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        p.initialize(repeating: 0, count: max(1, count))
        return keep(p)
    }

    /// Hands the registered slots and owned memory over to the model (once).
    func adopt() -> (slots: [WeightSlot], owned: [UnsafeMutablePointer<Float>]) {
        defer { slots = []; owned = [] }
        return (slots, owned)
    }

    func prepend(_ front: [WeightSlot]) { slots = front + slots }

    private func keep(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> { owned.append(p); return p }

    // MARK: reading tensors

    /// A weight matrix read in place; GGUF stores [cols, rows] (ne0 = row length).
    /// `forMatmul`: false for a matrix only read a row at a time (an untied token
    /// embedding), which keeps the file's rows and gets no interleaved copy.
    public static func matrix(_ gguf: GGUFFile, _ name: String, rows: Int, cols: Int, forMatmul: Bool = true) throws -> WeightMatrix {
        guard let info = gguf.tensor(named: name) else { throw ModelError.missingTensor(name) }
        guard info.dims.count >= 1, info.dims[0] == cols, info.rowCount == rows else {
            throw ModelError.badTensorShape(name: name, expected: [cols, rows], actual: info.dims)
        }
        guard BlockFormats.isSupported(info.type) else {
            throw ModelError.unsupportedTensorType(name: name, type: info.type.name)
        }
        let matrix = WeightMatrix(type: info.type, rows: rows, cols: cols, data: gguf.pointer(to: info))
        guard forMatmul, matrix.interleavable else { return matrix }
        // The kernels read the interleaved copy; the file's pages of the matrix go back to
        // the page cache as they are copied (read again only by what wants the rows as
        // stored: a tied embedding's lookups, inspect, quant).
        let interleaved = matrix.interleavedForKernels { gguf.mapping.release(offset: info.offset, count: $0) }
        gguf.mapping.release(offset: info.offset, count: info.byteCount)
        return interleaved
    }

    /// A small vector dequantized into memory the caller owns.
    public static func vector(_ gguf: GGUFFile, _ name: String, count: Int) throws -> UnsafeMutablePointer<Float> {
        guard let info = gguf.tensor(named: name) else { throw ModelError.missingTensor(name) }
        guard info.elementCount == count else {
            throw ModelError.badTensorShape(name: name, expected: [count], actual: info.dims)
        }
        guard BlockFormats.isSupported(info.type) else {
            throw ModelError.unsupportedTensorType(name: name, type: info.type.name)
        }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        BlockFormats.dequantizeRow(info.type, src: gguf.pointer(to: info), dst: p, count: count)
        return p
    }
}
