import Foundation

/// Owns the thread pool and grow-only scratch buffers, so the token loop allocates nothing.
///
/// One context per model instance; not thread-safe (calls must come from one thread
/// at a time). `matmul` lives in MatMul.swift, the attention methods in Attention.swift.
public final class ComputeContext {
    public var mode: KernelMode
    public var activations: ActivationPrecision
    /// When set, a batch of n tokens is computed exactly as n one-token passes would be
    /// (`batchRows` 1). Otherwise Q4_K sums groups of four tokens in llama.cpp's repacked
    /// order and Q5_K/Q6_K take its tiled order from 8 rows, which differ in the last bits;
    /// speculative decoding's verify pass sets this so greedy output stays plain greedy's.
    public var decodeOrder = false
    /// The tokens going through now belong to one of llama.cpp's micro-batches of at least
    /// `tiledAttentionRows` tokens (its prompt is cut into micro-batches of
    /// `llamaMicroBatch`). Its CPU flash attention then runs the tiled f32 path — query,
    /// keys, values and probabilities all in f32 — instead of the one-row f16 path, and
    /// `attentionBatch` follows. `DecoderModel.forward` sets it per batch.
    public var wideMicroBatch = false
    /// ggml's GGML_FA_TILE_Q: a micro-batch with this many query rows takes the tiled path.
    public static let tiledAttentionRows = 64
    /// llama.cpp's default n_ubatch (and the golden files' n_batch = n_ubatch = n_ctx = 512).
    public static let llamaMicroBatch = 512
    /// How many rows the matmuls going through now have in llama.cpp (nil: the matmul's own
    /// n): the tokens of its micro-batch, or in the last layer only the rows whose logits
    /// are wanted (it drops the others before the feed-forward). ggml runs a K-quant matmul
    /// that is not repacked (Q6_K on x86) through its tiled kernel from `tiledKQuantRows`
    /// rows on, which sums in another order. `DecoderModel.forward` sets it.
    public var microBatchRows: Int?
    /// ggml's tiled K-quant matmul takes batches of at least this many rows (tiled.cpp).
    public static let tiledKQuantRows = 8
    /// Run the integer kernels compiled for AVX-VNNI (LMKernelsVNNI): on when the CPU has
    /// it. Same bits either way; tests turn it off to hold the AVX2 kernels to the reference too.
    public var vnni = CPUFeatures.vnni

    /// Number of threads used by the fast kernels (the caller's thread counts as one).
    /// Setting it replaces the pool.
    public var threads: Int {
        get { pool.size }
        set {
            let wanted = max(1, newValue)
            guard wanted != pool.size else { return }
            pool.stop()
            pool = WorkerPool(size: wanted)
        }
    }

    var pool: WorkerPool
    // Task objects refilled on each call, so dispatching work allocates nothing.
    let closureTask = ClosureTask()
    let matmulTask = MatmulTask()
    let quantizeTask = ActivationQuantizeTask()
    let attentionTask = AttentionTask()

    // Scratch, grown on demand and never shrunk:
    // activation rows quantized for matmul, [n × activationType.rowBytes(cols)] bytes
    private var byteScratch: UnsafeMutableRawPointer
    private var byteScratchCapacity = 0
    // the integer kernels' per-matmul activation scales as floats (ActivationScaleLayout)
    private var scaleScratch: UnsafeMutableRawPointer
    private var scaleScratchCapacity = 0
    // the keys packed for llama.cpp's tiled attention (packKeysForTiles), floats
    private var packedKeyScratch: UnsafeMutableRawPointer
    private var packedKeyScratchCapacity = 0
    // float rows per worker (dequantized weight rows, attention scores), [threads × perWorker]
    private var floatScratch: UnsafeMutablePointer<Float>
    private var floatScratchCapacity = 0

    public init(threads: Int = 2, mode: KernelMode = .fast, activations: ActivationPrecision = .q8) {
        self.mode = mode
        self.activations = activations
        self.pool = WorkerPool(size: threads)
        byteScratch = .allocate(byteCount: 64, alignment: 64)
        scaleScratch = .allocate(byteCount: 64, alignment: 64)
        packedKeyScratch = .allocate(byteCount: 64, alignment: 64)
        floatScratch = .allocate(capacity: 16)
    }

    deinit {
        pool.stop()
        byteScratch.deallocate()
        scaleScratch.deallocate()
        packedKeyScratch.deallocate()
        floatScratch.deallocate()
    }

    /// Runs body(i) for i in 0..<count across the pool's threads (contiguous chunks),
    /// returns when all are done. In reference mode it is a plain loop.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        forEachChunk(count) { range, _ in
            for i in range { body(i) }
        }
    }

    /// Splits 0..<count into one contiguous chunk per worker: body(chunk, workerIndex).
    /// workerIndex < threads indexes per-worker scratch. (Allocates a small closure box
    /// per call when threaded; the hot kernels use `dispatch` with a task object.)
    func forEachChunk(_ count: Int, _ body: (Range<Int>, Int) -> Void) {
        let workers = workerCount(for: count)
        if workers <= 1 {
            if count > 0 { body(0..<count, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            closureTask.body = body
            closureTask.count = count
            pool.run(closureTask, workers: workers)
            closureTask.body = nil   // must not outlive this call
        }
    }

    /// Threads to use for `count` independent items: 1 in reference mode.
    /// Multiply-adds below which an integer matmul (or an attention call) runs on the
    /// calling thread alone (tests set 0 to drive the pool with small matrices).
    /// With the pool's workers spinning between kernels (WorkerPool), handing half of
    /// even SmolLM2's 192 × 576 key matrix to a second thread pays; below ~64 K it does
    /// not (figures: BENCHMARKS.md, kernel notes).
    /// `LMLAB_MIN_PARALLEL_WORK` overrides it, for measuring the trade-off on another machine.
    public var minParallelWork = ComputeContext.defaultMinParallelWork
    static let defaultMinParallelWork = ProcessInfo.processInfo.environment["LMLAB_MIN_PARALLEL_WORK"].flatMap { Int($0) } ?? 64_000

    func workerCount(for count: Int) -> Int {
        mode == .reference ? 1 : max(1, min(pool.size, count))
    }

    /// Runs a preallocated task on `workerCount(for: count)` workers.
    func dispatch(_ task: PoolTask, count: Int) {
        pool.run(task, workers: workerCount(for: count))
    }

    func bytes(_ count: Int) -> UnsafeMutableRawPointer {
        grow(&byteScratch, &byteScratchCapacity, to: count)
    }

    func activationScaleBytes(_ count: Int) -> UnsafeMutableRawPointer {
        grow(&scaleScratch, &scaleScratchCapacity, to: count)
    }

    func packedKeyFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
        grow(&packedKeyScratch, &packedKeyScratchCapacity, to: 4 * count).assumingMemoryBound(to: Float.self)
    }

    /// A grow-only scratch buffer of at least `count` bytes (doubling, 64-byte aligned).
    private func grow(_ buffer: inout UnsafeMutableRawPointer, _ capacity: inout Int, to count: Int) -> UnsafeMutableRawPointer {
        if count > capacity {
            buffer.deallocate()
            capacity = max(count, capacity * 2)
            buffer = .allocate(byteCount: capacity, alignment: 64)
        }
        return buffer
    }

    /// `perWorker` floats for each of the pool's workers: worker k uses
    /// result + k * perWorker.
    func floatsPerWorker(_ perWorker: Int) -> UnsafeMutablePointer<Float> {
        let count = perWorker * pool.size
        if count > floatScratchCapacity {
            floatScratch.deallocate()
            floatScratchCapacity = max(count, floatScratchCapacity * 2)
            floatScratch = .allocate(capacity: floatScratchCapacity)
        }
        return floatScratch
    }
}
