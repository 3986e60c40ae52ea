import CPrefetch

/// How far ahead of a decode kernel's reads the weights are asked for. A decode streams
/// each weight once; left to the hardware prefetcher, a thread read ~9 GB/s against 12 for
/// a plain loop, and synth1b decoded at 25 tok/s. Hinting the lines 4 KiB ahead made it 34
/// (2048 B: 34, 8192 B: 34.5), SmolLM2 Q8_0 160 → 228, Gemma 72 → 89 (BENCHMARKS.md).
/// (Inlinable, like `prefetch`: LMEngine's AVX2 kernels give the same hints.)
@inlinable public var prefetchAhead: Int { 4096 }

/// Hints the lines of `bytes` bytes from p into the caches, one prefetch per 64-byte line.
@inlinable @inline(__always) public func prefetch(_ p: UnsafeRawPointer, bytes: Int) {
    var o = 0
    while o < bytes { lm_prefetch(p + o); o += 64 }
}
