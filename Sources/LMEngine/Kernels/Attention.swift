import Foundation

/// Causal grouped-query attention for one query position, as plain loops: the idea.
///
/// Each query head h compares its query with the key of every position it may see,
/// turns those scores into probabilities with a softmax, and outputs the
/// probability-weighted sum of the values at those positions.
///
/// q: [heads × headDim], the query at position `pos`; keys/values: the layer's cache,
/// [positions × kvHeads × headDim] f32, positions 0...pos valid; out: [heads × headDim].
/// Grouped-query: `heads / kvHeads` query heads share one key/value head, so head h
/// reads kv head h / (heads / kvHeads). Causal: position pos sees keys 0...pos, never
/// later ones. window (sliding-window layers): key k is visible only when pos - k < window.
/// probabilities (optional): [heads × (pos+1)], each head's softmax weights, zero where
/// masked (what `attention` pictures draw). softCap (gemma2): each scaled score s becomes
/// cap·tanh(s/cap) before the softmax (`AttentionScore`).
///
/// The fast paths below compute the same thing with SIMD and threads (KernelAttentionTests
/// holds them together); FlashAttentionHalf.swift has llama.cpp's f16 arithmetic.
public func attentionReference(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                               out: UnsafeMutablePointer<Float>, heads: Int, kvHeads: Int, headDim: Int, pos: Int,
                               scale: Float, softCap: Float? = nil, window: Int?,
                               probabilities: UnsafeMutablePointer<Float>? = nil) {
    var scores = [Float](repeating: 0, count: pos + 1)   // [pos+1], one head at a time
    scores.withUnsafeMutableBufferPointer { scores in
        for h in 0..<heads {
            attendOneHeadReference(q: q, keys: keys, values: values, out: out, head: h, heads: heads, kvHeads: kvHeads,
                                   headDim: headDim, pos: pos, scale: scale, softCap: softCap, window: window,
                                   scores: scores.baseAddress!,
                                   probabilities: probabilities.map { $0 + h * (pos + 1) })
        }
    }
}

/// Head h of `attentionReference`. scores: [pos+1] scratch; probabilities (optional): [pos+1].
func attendOneHeadReference(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                            out: UnsafeMutablePointer<Float>, head h: Int, heads: Int, kvHeads: Int, headDim: Int, pos: Int,
                            scale: Float, softCap: Float?, window: Int?, scores: UnsafeMutablePointer<Float>,
                            probabilities: UnsafeMutablePointer<Float>?) {
    let score = AttentionScore(scale: scale, softCap: softCap)
    let kvHead = h / (heads / kvHeads)
    let rowStride = kvHeads * headDim            // floats between consecutive positions in the cache
    let first = firstVisible(pos: pos, window: window)
    let qh = q + h * headDim, oh = out + h * headDim

    // 1. Scores: query · key for every visible position, times scale (1/√headDim), capped
    //    when the model caps them.
    for k in first...pos {
        let key = keys + k * rowStride + kvHead * headDim
        var s: Float = 0
        for d in 0..<headDim { s += qh[d] * key[d] }
        scores[k - first] = score(s)
    }

    // 2. Softmax: p_k = e^(s_k − max) / Σ e^(s_j − max) (softmaxReference in
    //    Softmax.swift: the max keeps e^ from overflowing, the sum is kept in double
    //    as ggml keeps it).
    softmaxReference(scores, count: pos - first + 1)

    // 3. Output: Σ_k p_k · value_k.
    for d in 0..<headDim { oh[d] = 0 }
    for k in first...pos {
        let value = values + k * rowStride + kvHead * headDim
        let p = scores[k - first]
        for d in 0..<headDim { oh[d] += p * value[d] }
    }

    if let probabilities {
        for k in 0..<first { probabilities[k] = 0 }
        for k in first...pos { probabilities[k] = scores[k - first] }
    }
}

/// What a query·key dot product becomes before the softmax: times the scale, then, with a
/// soft cap c (gemma2's attention logit soft-capping), c·tanh(·/c), bounded to (−c, c).
/// llama.cpp folds 1/c into the scale (one multiply by scale/c, then c·tanhf), in its flash
/// attention and in its f32 tiles alike; the same order here, so the roundings agree.
struct AttentionScore {
    let factor: Float
    let cap: Float?

    init(scale: Float, softCap: Float?) {
        factor = softCap.map { scale / $0 } ?? scale
        cap = softCap
    }

    @inline(__always)
    func callAsFunction(_ dot: Float) -> Float {
        guard let cap else { return dot * factor }
        return cap * tanhf(dot * factor)
    }
}

/// One head's softmax weights for pictures of attention, when the output itself came from
/// one of llama.cpp's orders: the plain f32 softmax of the same scores, zero before `first`.
/// q: [headDim]; keys: the cache at this kv head, `stride` floats per position;
/// scores: [last−first+1] scratch; probabilities: [last+1].
func pictureProbabilities(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, stride: Int, first: Int, last: Int,
                          headDim: Int, score: AttentionScore, scores: UnsafeMutablePointer<Float>,
                          into probabilities: UnsafeMutablePointer<Float>) {
    for k in first...last { scores[k - first] = score(dotF32(q, keys + k * stride, count: headDim)) }
    softmax(scores, count: last - first + 1)
    for k in 0..<first { probabilities[k] = 0 }
    for k in first...last { probabilities[k] = scores[k - first] }
}

/// The first key position that position `pos` may see.
@inline(__always)
func firstVisible(pos: Int, window: Int?) -> Int {
    guard let window else { return 0 }
    return max(0, pos - window + 1)   // pos - k < window  ⇔  k ≥ pos - window + 1
}

// MARK: - The fast f32 path and the threaded batch

/// `attentionReference` on one thread, with the SIMD loops in `.fast` mode.
/// scratch: at least [heads × (pos+1)] floats for the probabilities.
public func attention(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                      heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, softCap: Float? = nil, window: Int?,
                      scratch: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?,
                      mode: KernelMode = .fast) {
    for h in 0..<heads {
        attendOneHead(q: q, keys: keys, values: values, out: out, head: h, heads: heads, kvHeads: kvHeads, headDim: headDim,
                      pos: pos, scale: scale, softCap: softCap, window: window, scores: scratch + h * (pos + 1),
                      probabilities: probabilities.map { $0 + h * (pos + 1) }, mode: mode)
    }
}

/// One head, by the path the context's arithmetic asks for: llama.cpp's f16 flash
/// attention (`halfPrecision`, FlashAttentionHalf.swift), the plain loop (`.reference`),
/// or the same steps with SIMD dot products. scores: [pos+1] scratch ([(pos+1) + headDim]
/// with `halfPrecision`); probabilities (optional): [pos+1].
func attendOneHead(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                   head h: Int, heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, softCap: Float?, window: Int?,
                   scores: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?, mode: KernelMode,
                   halfPrecision: Bool = false) {
    if halfPrecision {
        attendOneHeadHalf(q: q, keys: keys, values: values, out: out, head: h, heads: heads, kvHeads: kvHeads, headDim: headDim,
                          pos: pos, scale: scale, softCap: softCap, window: window, scratch: scores, probabilities: probabilities, mode: mode)
        return
    }
    if mode == .reference {
        attendOneHeadReference(q: q, keys: keys, values: values, out: out, head: h, heads: heads, kvHeads: kvHeads,
                               headDim: headDim, pos: pos, scale: scale, softCap: softCap, window: window, scores: scores,
                               probabilities: probabilities)
        return
    }
    let score = AttentionScore(scale: scale, softCap: softCap)
    let kvHead = h / (heads / kvHeads)
    let rowStride = kvHeads * headDim
    let qh = q + h * headDim, oh = out + h * headDim
    let first = firstVisible(pos: pos, window: window)
    for k in first...pos {
        scores[k - first] = score(dotF32(qh, keys + k * rowStride + kvHead * headDim, count: headDim))
    }
    softmax(scores, count: pos - first + 1)
    oh.update(repeating: 0, count: headDim)
    for k in first...pos {
        axpyF32(scores[k - first], values + k * rowStride + kvHead * headDim, oh, count: headDim)
    }
    if let probabilities {
        for k in 0..<first { probabilities[k] = 0 }
        for k in first...pos { probabilities[k] = scores[k - first] }
    }
}

extension ComputeContext {
    /// `attention` for all heads, split across the pool's threads, with the context's
    /// own scratch. Shapes as in `attentionReference`.
    public func attention(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                          heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, softCap: Float? = nil, window: Int?,
                          probabilities: UnsafeMutablePointer<Float>? = nil) {
        // One query at position pos is a batch of one starting there; the layouts agree.
        attentionBatch(q: q, keys: keys, values: values, out: out, n: 1, p0: pos, heads: heads, kvHeads: kvHeads,
                       headDim: headDim, scale: scale, softCap: softCap, window: window, probabilities: probabilities)
    }

    /// Prefill: n queries at positions p0..<p0+n, each attending causally to the cache,
    /// which must already hold positions 0..<p0+n.
    /// q, out: [n × heads × headDim]. probabilities (optional): [n × heads × (p0+n)],
    /// query t's row for head h at (t*heads + h)*(p0+n), zero beyond its own position.
    /// With `.q8` activations the arithmetic is llama.cpp's f16 flash attention, or its
    /// tiled f32 one (FlashAttentionTiled.swift) for a wide micro-batch (`wideMicroBatch`).
    public func attentionBatch(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                               n: Int, p0: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float, softCap: Float? = nil,
                               window: Int?, probabilities: UnsafeMutablePointer<Float>? = nil) {
        let t = attentionTask
        t.q = q; t.keys = keys; t.values = values; t.out = out; t.probabilities = probabilities
        t.n = n; t.p0 = p0; t.heads = heads; t.kvHeads = kvHeads; t.headDim = headDim
        t.scale = scale; t.softCap = softCap; t.window = window; t.mode = mode
        t.order = activations != .q8 ? .plain : wideMicroBatch ? .llamaTiled : .llamaOneRow
        t.packedKeys = nil
        if t.order == .llamaTiled && mode != .reference && headDim % 16 == 0 {
            // Every kv head's keys in tiles, once per call: all the call's queries read them.
            let positions = p0 + n, tiles = (positions + tiledAttentionKeys - 1) / tiledAttentionKeys
            let perHead = tiles * headDim * tiledAttentionKeys
            let packed = packedKeyFloats(kvHeads * perHead)
            for kv in 0..<kvHeads {
                packKeysForTiles(keys + kv * headDim, stride: kvHeads * headDim, positions: positions, headDim: headDim,
                                 into: packed + kv * perHead)
            }
            t.packedKeys = UnsafePointer(packed)
        }
        t.scratch = floatsPerWorker(p0 + n + headDim)
        // Short contexts are too little work to be worth waking a second thread for.
        let work = n * heads * (p0 + n) * headDim * 2
        dispatch(t, count: work >= minParallelWork ? n * heads : 1)
    }
}

/// Which float order attention follows: lmlab's own f32 one (`.f32` activations), or
/// llama.cpp's, which is its one-row f16 flash attention (FlashAttentionHalf.swift) or, for a
/// micro-batch of 64 rows or more, its tiled f32 one (FlashAttentionTiled.swift).
enum AttentionOrder { case plain, llamaOneRow, llamaTiled }

/// One attention call's state for the pool: the n·heads (query, head) pairs are split
/// into contiguous chunks; each worker keeps its scores (and f16 query) in its own
/// (p0+n+headDim)-float scratch.
final class AttentionTask: PoolTask {
    var q: UnsafePointer<Float>?, keys: UnsafePointer<Float>?, values: UnsafePointer<Float>?
    var out: UnsafeMutablePointer<Float>?, probabilities: UnsafeMutablePointer<Float>?
    var scratch: UnsafeMutablePointer<Float>?   // [workers × (p0+n+headDim)]
    var n = 1, p0 = 0, heads = 1, kvHeads = 1, headDim = 1
    var scale: Float = 1
    var softCap: Float?
    var window: Int?
    var mode = KernelMode.fast
    var order = AttentionOrder.plain
    /// For `.llamaTiled`: the keys packed by `packKeysForTiles` ([kvHeads × tiles × headDim × 64]),
    /// nil when the plain loop runs.
    var packedKeys: UnsafePointer<Float>?

    func run(worker: Int, workers: Int) {
        guard let q, let keys, let values, let out, let scratch else { return }
        let jobs = n * heads, span = p0 + n, perWorker = span + headDim
        for job in (jobs * worker / workers)..<(jobs * (worker + 1) / workers) {
            let t = job / heads, h = job % heads
            let pos = p0 + t
            let row = probabilities.map { $0 + job * span }
            if order == .llamaTiled {
                attendOneHeadTiled(q: q + t * heads * headDim, keys: keys, packedKeys: packedKeys, values: values,
                                   out: out + t * heads * headDim, head: h, heads: heads, kvHeads: kvHeads, headDim: headDim,
                                   pos: pos, packedPositions: span, scale: scale, softCap: softCap, window: window,
                                   scores: scratch + worker * perWorker, probabilities: row)
            } else {
                attendOneHead(q: q + t * heads * headDim, keys: keys, values: values, out: out + t * heads * headDim,
                              head: h, heads: heads, kvHeads: kvHeads, headDim: headDim, pos: pos, scale: scale, softCap: softCap,
                              window: window, scores: scratch + worker * perWorker, probabilities: row, mode: mode,
                              halfPrecision: order == .llamaOneRow)
            }
            if let row { for k in (pos + 1)..<span { row[k] = 0 } }
        }
    }
}
