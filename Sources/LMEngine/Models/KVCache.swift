import Foundation

/// Keys and values of every position seen so far, per layer, in f32.
///
/// keys(layer) / values(layer): [capacity × kvWidth], position p at p·kvWidth.
/// The memory is an anonymous mapping of the full capacity: the system commits
/// pages only as positions are written, so a long context costs nothing until used.
public final class KVCache {
    public let layers: Int
    public let capacity: Int
    public let kvWidth: Int
    /// Positions 0..<count hold valid entries.
    public var count = 0
    private let base: UnsafeMutablePointer<Float>
    private let bytes: Int

    /// Throws `ModelError.kvCacheTooLarge` when the size overflows or the
    /// system refuses to reserve it (a corrupt or huge context length).
    public init(layers: Int, capacity: Int, kvWidth: Int) throws {
        self.layers = layers; self.capacity = capacity; self.kvWidth = kvWidth
        var size = MemoryLayout<Float>.size
        for factor in [layers, 2, capacity, kvWidth] {
            let (product, overflow) = size.multipliedReportingOverflow(by: max(0, factor))
            guard !overflow else { throw ModelError.kvCacheTooLarge(layers: layers, context: capacity, kvWidth: kvWidth) }
            size = product
        }
        bytes = max(1, size)
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw ModelError.kvCacheTooLarge(layers: layers, context: capacity, kvWidth: kvWidth)
        }
        base = p.bindMemory(to: Float.self, capacity: bytes / 4)
    }

    deinit { munmap(base, bytes) }

    public func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { base + (2 * layer) * capacity * kvWidth }
    public func values(_ layer: Int) -> UnsafeMutablePointer<Float> { base + (2 * layer + 1) * capacity * kvWidth }

    /// Bytes one position takes across all layers (keys and values).
    public var bytesPerToken: Int { layers * 2 * kvWidth * MemoryLayout<Float>.size }
}
