/// Causal grouped-query attention for one query position over a KV cache.
///
/// q: [heads × headDim]; keys/values: the layer's cache, [positions × kvHeads × headDim] f32,
/// positions 0...pos valid; out: [heads × headDim]; query head h reads kv head
/// h / (heads / kvHeads). Scores are scaled by `scale`.
/// window: if set, key position k is visible only when pos - k < window (sliding-window layers).
/// scratch: at least (pos+1) floats per head ([heads × (pos+1)]) for the probabilities; if
/// `probabilities` is non-nil, the softmaxed weights of each head are written there
/// ([heads × (pos+1)], zero where masked) so a UI can draw attention maps.
public func attention(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                      heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, window: Int?,
                      scratch: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?,
                      mode: KernelMode = .fast) {
    for h in 0..<heads {
        attendOneHead(q: q, keys: keys, values: values, out: out, head: h, heads: heads, kvHeads: kvHeads, headDim: headDim,
                      pos: pos, scale: scale, window: window, scores: scratch + h * (pos + 1),
                      probabilities: probabilities.map { $0 + h * (pos + 1) }, mode: mode)
    }
}

/// The first key position head `pos` may see.
@inline(__always)
func firstVisible(pos: Int, window: Int?) -> Int {
    guard let window else { return 0 }
    return max(0, pos - window + 1)   // pos - k < window  ⇔  k ≥ pos - window + 1
}

/// One head: scores over the visible keys, softmax, weighted sum of values.
/// scores: [pos+1] scratch; probabilities (optional): [pos+1].
func attendOneHead(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                   head h: Int, heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, window: Int?,
                   scores: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?, mode: KernelMode) {
    let group = heads / kvHeads
    let kvHead = h / group
    let rowStride = kvHeads * headDim   // floats between consecutive positions in the cache
    let qh = q + h * headDim
    let oh = out + h * headDim
    let first = firstVisible(pos: pos, window: window)
    let visible = pos - first + 1

    if mode == .reference {
        for k in first...pos {
            let key = keys + k * rowStride + kvHead * headDim
            var s: Float = 0
            for d in 0..<headDim { s += qh[d] * key[d] }
            scores[k - first] = s * scale
        }
        softmaxReference(scores, count: visible)
        for d in 0..<headDim { oh[d] = 0 }
        for k in first...pos {
            let value = values + k * rowStride + kvHead * headDim
            let p = scores[k - first]
            for d in 0..<headDim { oh[d] += p * value[d] }
        }
    } else {
        for k in first...pos {
            scores[k - first] = dotF32(qh, keys + k * rowStride + kvHead * headDim, count: headDim) * scale
        }
        softmax(scores, count: visible)
        oh.update(repeating: 0, count: headDim)
        for k in first...pos {
            axpyF32(scores[k - first], values + k * rowStride + kvHead * headDim, oh, count: headDim)
        }
    }

    if let probabilities {
        for k in 0..<first { probabilities[k] = 0 }
        for k in first...pos { probabilities[k] = scores[k - first] }
    }
}

extension ComputeContext {
    /// `attention` for all heads, split across the pool's threads, with the context's
    /// own scratch. Shapes as in the free function.
    public func attention(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                          heads: Int, kvHeads: Int, headDim: Int, pos: Int, scale: Float, window: Int?,
                          probabilities: UnsafeMutablePointer<Float>? = nil) {
        // One query at position pos is a batch of one starting there; the layouts agree.
        attentionBatch(q: q, keys: keys, values: values, out: out, n: 1, p0: pos, heads: heads, kvHeads: kvHeads,
                       headDim: headDim, scale: scale, window: window, probabilities: probabilities)
    }

    /// Prefill: n queries at positions p0..<p0+n, each attending causally to the cache,
    /// which must already hold positions 0..<p0+n.
    /// q, out: [n × heads × headDim]. probabilities (optional): [n × heads × (p0+n)],
    /// query t's row for head h at (t*heads + h)*(p0+n), zero beyond its own position.
    public func attentionBatch(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                               n: Int, p0: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float, window: Int?,
                               probabilities: UnsafeMutablePointer<Float>? = nil) {
        let t = attentionTask
        t.q = q; t.keys = keys; t.values = values; t.out = out; t.probabilities = probabilities
        t.n = n; t.p0 = p0; t.heads = heads; t.kvHeads = kvHeads; t.headDim = headDim
        t.scale = scale; t.window = window; t.mode = mode
        t.scratch = floatsPerWorker(p0 + n)
        // Short contexts are too little work to be worth waking a second thread for.
        let work = n * heads * (p0 + n) * headDim * 2
        dispatch(t, count: work >= minParallelWork ? n * heads : 1)
    }
}

/// One attention call's state for the pool: the n·heads (query, head) pairs are split
/// into contiguous chunks; each worker keeps its scores in its own (p0+n)-float scratch.
final class AttentionTask: PoolTask {
    var q: UnsafePointer<Float>?, keys: UnsafePointer<Float>?, values: UnsafePointer<Float>?
    var out: UnsafeMutablePointer<Float>?, probabilities: UnsafeMutablePointer<Float>?
    var scratch: UnsafeMutablePointer<Float>?   // [workers × (p0+n)]
    var n = 1, p0 = 0, heads = 1, kvHeads = 1, headDim = 1
    var scale: Float = 1
    var window: Int?
    var mode = KernelMode.fast

    func run(worker: Int, workers: Int) {
        guard let q, let keys, let values, let out, let scratch else { return }
        let jobs = n * heads, span = p0 + n
        for job in (jobs * worker / workers)..<(jobs * (worker + 1) / workers) {
            let t = job / heads, h = job % heads
            let pos = p0 + t
            let row = probabilities.map { $0 + job * span }
            attendOneHead(q: q + t * heads * headDim, keys: keys, values: values, out: out + t * heads * headDim,
                          head: h, heads: heads, kvHeads: kvHeads, headDim: headDim, pos: pos, scale: scale, window: window,
                          scores: scratch + worker * span, probabilities: row, mode: mode)
            if let row { for k in (pos + 1)..<span { row[k] = 0 } }
        }
    }
}
