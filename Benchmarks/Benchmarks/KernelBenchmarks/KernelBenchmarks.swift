import Benchmark
import LMEngine

// Micro-benchmarks of LMEngine's kernels at SmolLM2-135M's shapes, each kernel in its
// reference version (the plain loop that defines it) and its fast one (SIMD and the
// worker pool). Besides wall clock and throughput (calls per second), every benchmark
// reports a rate of its own work as a custom metric: MFLOP/s for kernels that compute
// (matmul, attention, dot), MB/s for those that mostly move memory (norm, softmax,
// RoPE, gates), and weight MB/s for matmul, the figure that bounds decode.
// The work counted per call is written next to each benchmark; the harness glue
// (the rate metrics and the timed loop) is in Harness.swift.

let benchmarks = {
    KernelBenchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, Rate.megaflops, Rate.megabytes, Rate.weightMegabytes],
        timeUnits: .microseconds,
        // Rates are whole numbers of MFLOP/s or MB/s: shown as they are, never rescaled to K or M.
        units: [Rate.megaflops: .count, Rate.megabytes: .count, Rate.weightMegabytes: .count],
        warmupIterations: 3,
        maxDuration: .milliseconds(700),
        maxIterations: 2_000
    )
    matmulBenchmarks()
    attentionBenchmarks()
    elementwiseBenchmarks()
}

// MARK: - Shapes

/// SmolLM2-135M: the model lmlab's speed figures are measured on.
enum SmolLM2 {
    static let width = 576
    static let feedForward = 1536
    static let heads = 9
    static let kvHeads = 3
    static let headDim = 64
    static let vocabulary = 49152
    static let ropeBase: Float = 100_000
    static let normEpsilon: Float = 1e-5
    /// Tokens per prefill batch in these benchmarks.
    static let prefillBatch = 32
}

// MARK: - Test data

/// xorshift64*, so every run quantizes the same matrices and feeds the same inputs.
struct SeededFloats {
    private var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    /// Uniform in -1..<1.
    mutating func next() -> Float {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        let bits = (state &* 0x2545_F491_4F6C_DD1D) >> 40   // top 24 bits
        return Float(bits) / Float(1 << 23) - 1
    }
    mutating func fill(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = next() }
    }
}

/// A float buffer that frees itself; what the benchmarks' setup hands the measured loop.
final class Floats {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>
    init(_ count: Int, seed: UInt64) {
        self.count = count
        pointer = .allocate(capacity: count)
        var random = SeededFloats(seed: seed)
        random.fill(pointer, count: count)
    }
    deinit { pointer.deallocate() }
}

/// A weight matrix of random values in -1..<1, quantized row by row with
/// `BlockFormats.quantizeRow` as a model converter would, owning its bytes.
final class QuantizedWeights {
    let matrix: WeightMatrix
    private let storage: UnsafeMutableRawPointer

    init(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) {
        let rowBytes = type.rowBytes(cols)!
        storage = .allocate(byteCount: rows * rowBytes, alignment: 64)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: cols)
        defer { row.deallocate() }
        var random = SeededFloats(seed: seed)
        for r in 0..<rows {
            random.fill(row, count: cols)
            BlockFormats.quantizeRow(type, src: row, dst: storage + r * rowBytes, count: cols)
        }
        matrix = WeightMatrix(type: type, rows: rows, cols: cols, data: storage)
    }
    deinit { storage.deallocate() }
}

// MARK: - Matrix multiplication

struct MatmulShape {
    let label: String
    let cols: Int   // inputs
    let rows: Int   // outputs
}

let attentionProjection = MatmulShape(label: "attn 576x576", cols: SmolLM2.width, rows: SmolLM2.width)
let feedForwardUp = MatmulShape(label: "ffn-up 576x1536", cols: SmolLM2.width, rows: SmolLM2.feedForward)
let feedForwardDown = MatmulShape(label: "ffn-down 1536x576", cols: SmolLM2.feedForward, rows: SmolLM2.width)
let outputHead = MatmulShape(label: "head 576x49152", cols: SmolLM2.width, rows: SmolLM2.vocabulary)

struct MatmulState {
    let weights: QuantizedWeights
    let x: Floats
    let y: Floats
    let context: ComputeContext
}

/// One `ComputeContext.matmul` benchmark: y[n × rows] = W · x[n × cols].
/// Work per call: 2·rows·cols·n flops; the weight matrix streamed once.
func matmulBenchmark(_ type: GGMLType, _ shape: MatmulShape, n: Int, mode: KernelMode,
                     activations: ActivationPrecision = .q8, threads: Int = 1) {
    var name = "matmul \(type.name) \(shape.label) n=\(n) \(mode)"
    if activations != .q8 { name += " \(activations)-act" }
    if threads != 1 { name += " \(threads)T" }
    let work = Work(flops: 2 * Double(shape.rows * shape.cols * n),
                    weightBytes: Double(shape.rows * type.rowBytes(shape.cols)!))
    KernelBenchmark(name) { benchmark, state in
        benchmark.measureLoop(work) {
            state.context.matmul(state.weights.matrix, state.x.pointer, state.y.pointer, n: n)
        }
    } setup: {
        MatmulState(weights: QuantizedWeights(type, rows: shape.rows, cols: shape.cols, seed: 7),
                    x: Floats(n * shape.cols, seed: 11), y: Floats(n * shape.rows, seed: 13),
                    context: ComputeContext(threads: threads, mode: mode, activations: activations))
    }
}

func matmulBenchmarks() {
    let types: [GGMLType] = [.q4_0, .q4_1, .q8_0, .f16, .f32, .q4_K, .q6_K]
    for type in types {
        // K-quant rows are whole 256-element blocks, and SmolLM2's 576-wide rows are
        // not (llama.cpp stores those matrices in another type): Q4_K and Q6_K run only
        // the 1536-column feed-forward down projection.
        let fits = { (shape: MatmulShape) in type.rowBytes(shape.cols) != nil }
        // Decode: one token through every matrix shape of a layer, and the output head.
        for shape in [attentionProjection, feedForwardUp, feedForwardDown, outputHead] where fits(shape) {
            matmulBenchmark(type, shape, n: 1, mode: .fast)
        }
        // Prefill: a batch of tokens, where weight rows are reused across tokens.
        for shape in [feedForwardUp, feedForwardDown] where fits(shape) {
            matmulBenchmark(type, shape, n: SmolLM2.prefillBatch, mode: .fast)
        }
        // The plain loops, for the speed-up of the fast path, on the one shape every
        // type can store (the head would take too long).
        matmulBenchmark(type, feedForwardDown, n: 1, mode: .reference)
        matmulBenchmark(type, feedForwardDown, n: SmolLM2.prefillBatch, mode: .reference)
        // f32 activations: each weight row dequantized to floats and dotted in f32.
        matmulBenchmark(type, feedForwardDown, n: 1, mode: .fast, activations: .f32)
    }
    // Two threads where the work is large enough to be split (minParallelWork).
    for type in [GGMLType.q4_0, .q8_0] {
        matmulBenchmark(type, outputHead, n: 1, mode: .fast, threads: 2)
    }
    for type in [GGMLType.q4_0, .q8_0, .q4_K] {
        matmulBenchmark(type, feedForwardDown, n: SmolLM2.prefillBatch, mode: .fast, threads: 2)
    }
}

// MARK: - Attention

struct AttentionState {
    let query: Floats
    let keys: Floats
    let values: Floats
    let out: Floats
    let context: ComputeContext
}

/// `ComputeContext.attention` (one query, decode) or `attentionBatch` (n queries ending at
/// position `positions - 1`) over a cache of `positions` positions: 9 query heads sharing
/// 3 kv heads of 64. q8 activations run llama.cpp's flash attention on f16-rounded
/// keys and values; f32 the plain softmax attention.
/// Work per query and head: 4·headDim flops per visible key (q·k and the weighted sum of
/// values); bytes: the keys and values in the cache, read once.
func attentionBenchmark(positions: Int, n: Int, mode: KernelMode, activations: ActivationPrecision) {
    let heads = SmolLM2.heads, kvHeads = SmolLM2.kvHeads, headDim = SmolLM2.headDim
    let p0 = positions - n
    // Query t sees keys 0...p0+t.
    let visibleKeys = (0..<n).reduce(0) { $0 + p0 + $1 + 1 }
    let work = Work(flops: Double(4 * heads * headDim * visibleKeys),
                    bytes: Double(2 * positions * kvHeads * headDim * 4))
    let name = "attention \(n == 1 ? "decode" : "prefill n=\(n)") ctx=\(positions) \(mode) \(activations)-act"
    KernelBenchmark(name) { (benchmark: KernelBenchmark, state: AttentionState) in
        let scale = 1 / Float(headDim).squareRoot()
        benchmark.measureLoop(work) {
            if n == 1 {
                state.context.attention(q: state.query.pointer, keys: state.keys.pointer, values: state.values.pointer,
                                        out: state.out.pointer, heads: heads, kvHeads: kvHeads, headDim: headDim,
                                        pos: p0, scale: scale, window: nil)
            } else {
                state.context.attentionBatch(q: state.query.pointer, keys: state.keys.pointer, values: state.values.pointer,
                                             out: state.out.pointer, n: n, p0: p0, heads: heads, kvHeads: kvHeads,
                                             headDim: headDim, scale: scale, window: nil)
            }
        }
    } setup: { () -> AttentionState in
        let cacheCount = positions * kvHeads * headDim
        let keys = Floats(cacheCount, seed: 17), values = Floats(cacheCount, seed: 19)
        if activations == .q8 {
            // The f16 KV cache holds values already rounded to f16, as the model writes them.
            for i in 0..<cacheCount {
                keys.pointer[i] = roundedToHalf(keys.pointer[i])
                values.pointer[i] = roundedToHalf(values.pointer[i])
            }
        }
        return AttentionState(query: Floats(n * heads * headDim, seed: 23), keys: keys, values: values,
                              out: Floats(n * heads * headDim, seed: 29),
                              context: ComputeContext(threads: 1, mode: mode, activations: activations))
    }
}

func attentionBenchmarks() {
    for positions in [128, 1024] {
        for activations in [ActivationPrecision.q8, .f32] {
            for mode in [KernelMode.reference, .fast] {
                attentionBenchmark(positions: positions, n: 1, mode: mode, activations: activations)
            }
            attentionBenchmark(positions: positions, n: SmolLM2.prefillBatch, mode: .fast, activations: activations)
        }
    }
}

// MARK: - Element-wise kernels

/// An input and its pristine copy: the kernels below work in place, so each call first
/// restores the input (a memcpy of the same size, included in the time) rather than
/// feeding a kernel its own output over and over (silu·up would decay to subnormals).
final class InPlaceInput {
    let work: Floats
    let original: Floats
    init(_ count: Int, seed: UInt64, scale: Float = 1) {
        work = Floats(count, seed: seed)
        original = Floats(count, seed: seed)
        for i in 0..<count { original.pointer[i] *= scale }
    }
    func restore() { work.pointer.update(from: original.pointer, count: work.count) }
}

func elementwiseBenchmarks() {
    // These kernels take from well under a microsecond to tens of microseconds, so each
    // sample runs them a thousand times to keep the clock's own cost out; softmax over
    // the vocabulary takes hundreds of microseconds and runs once per sample.
    let elementwise = KernelBenchmark.Configuration(timeUnits: .nanoseconds, scalingFactor: .kilo)
    let vocabularySized = KernelBenchmark.Configuration(scalingFactor: .one)
    let width = SmolLM2.width, feedForward = SmolLM2.feedForward
    for mode in [KernelMode.reference, .fast] {
        // RMSNorm of one hidden state. Bytes: x and weight read, out written.
        KernelBenchmark("rmsNorm \(width) \(mode)", configuration: elementwise) { benchmark, state in
            let (x, weight, out) = state
            benchmark.measureLoop(Work(flops: Double(4 * width), bytes: Double(3 * width * 4))) {
                if mode == .reference {
                    rmsNormReference(x.pointer, weight: weight.pointer, out: out.pointer, count: width, eps: SmolLM2.normEpsilon)
                } else {
                    rmsNorm(x.pointer, weight: weight.pointer, out: out.pointer, count: width, eps: SmolLM2.normEpsilon)
                }
            }
        } setup: {
            (Floats(width, seed: 31), Floats(width, seed: 37), Floats(width, seed: 41))
        }

        // Softmax over the vocabulary's logits (sampling) and over 1024 attention scores.
        // Bytes: the vector read and written once (plus the restoring copy).
        for (label, count) in [("vocab", SmolLM2.vocabulary), ("scores", 1024)] {
            KernelBenchmark("softmax \(label) \(count) \(mode)", configuration: count > 4096 ? vocabularySized : elementwise) { benchmark, input in
                benchmark.measureLoop(Work(bytes: Double(2 * count * 4))) {
                    input.restore()
                    if mode == .reference { softmaxReference(input.work.pointer, count: count) }
                    else { softmax(input.work.pointer, count: count) }
                }
            } setup: {
                InPlaceInput(count, seed: 43, scale: 8)   // logits spread over ±8
            }
        }

        // RoPE on one token's queries and keys (9 + 3 heads of 64), at position 100.
        // Bytes: the vectors read and written once.
        let ropeHeads = SmolLM2.heads + SmolLM2.kvHeads
        let ropeCount = ropeHeads * SmolLM2.headDim
        KernelBenchmark("applyRoPE \(ropeHeads)x\(SmolLM2.headDim) \(mode)", configuration: elementwise) { benchmark, input in
            benchmark.measureLoop(Work(bytes: Double(2 * ropeCount * 4))) {
                input.restore()
                if mode == .reference {
                    applyRoPEReference(input.work.pointer, heads: ropeHeads, headDim: SmolLM2.headDim, pos: 100,
                                       base: SmolLM2.ropeBase, style: .adjacentPairs)
                } else {
                    applyRoPE(input.work.pointer, heads: ropeHeads, headDim: SmolLM2.headDim, pos: 100,
                              base: SmolLM2.ropeBase, style: .adjacentPairs)
                }
            }
        } setup: {
            InPlaceInput(ropeCount, seed: 47)
        }

        // The feed-forward gates over SmolLM2's 1536 (SwiGLU) and, for comparison at the
        // same width, gemma's GeGLU. Bytes: gate and up read, gate written.
        let gateBytes = Double(3 * feedForward * 4)
        KernelBenchmark("siluGate \(feedForward) \(mode)", configuration: elementwise) { benchmark, state in
            let (gate, up) = state
            benchmark.measureLoop(Work(bytes: gateBytes)) {
                gate.restore()
                siluGate(gate.work.pointer, up: up.pointer, count: feedForward, mode: mode)
            }
        } setup: {
            (InPlaceInput(feedForward, seed: 53, scale: 4), Floats(feedForward, seed: 59))
        }
        KernelBenchmark("geluTanhGate \(feedForward) \(mode)", configuration: elementwise) { benchmark, state in
            let (gate, up) = state
            benchmark.measureLoop(Work(bytes: gateBytes)) {
                gate.restore()
                geluTanhGate(gate.work.pointer, up: up.pointer, count: feedForward, mode: mode)
            }
        } setup: {
            (InPlaceInput(feedForward, seed: 61, scale: 4), Floats(feedForward, seed: 67))
        }

        // f32 dot product of two hidden-size vectors. Work: a multiply and an add per element.
        KernelBenchmark("dotF32 \(width) \(mode)", configuration: elementwise) { benchmark, state in
            let (a, b) = state
            benchmark.measureLoop(Work(flops: Double(2 * width))) {
                blackHole(mode == .reference ? dotF32Reference(a.pointer, b.pointer, count: width)
                                             : dotF32(a.pointer, b.pointer, count: width))
            }
        } setup: {
            (Floats(width, seed: 71), Floats(width, seed: 73))
        }
    }
}
