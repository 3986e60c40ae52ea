import Foundation

/// What every decoder-only architecture shares: weights read in place from the
/// GGUF mapping, the KV cache, preallocated activation buffers, the batched
/// forward loop, and the output head. An architecture (Llama.swift, …; see
/// Architecture.swift) reads its config and tensors through a `ModelBuilder`,
/// then calls `super.init`, and implements `block`, one transformer layer.
///
/// Buffers (allocated once; `maxBatch` tokens go through the layers together):
///   x     [maxBatch × embedding]   the residual stream
///   xn    [maxBatch × embedding]   normed input to a sub-layer, then its output
///   q     [maxBatch × queryWidth]  queries;  attn: attention output, same shape
///   k, v  [maxBatch × kvWidth]     this batch's keys and values (copied into the cache)
///   gate, up [maxBatch × feedForward]   feed-forward activations
///   logits [logitChunk × vocabulary]
/// An architecture that needs more (a fused projection's output) asks the builder.
open class DecoderModel {
    public let gguf: GGUFFile
    public let config: ModelConfig
    public let tokenizer: Tokenizer
    public let compute: ComputeContext
    public let cache: KVCache
    /// The output head: token_embd when the model ties them (no `output.weight`).
    public let outputSlot: WeightSlot
    public let outputIsTied: Bool
    public let tokenEmbeddingSlot: WeightSlot
    public var output: WeightMatrix { outputSlot.matrix }
    public var tokenEmbedding: WeightMatrix { tokenEmbeddingSlot.matrix }
    /// Every weight matrix, in the order read (token_embd and output first).
    public let slots: [WeightSlot]
    public let outputNorm: UnsafeMutablePointer<Float>

    // MARK: inspection hooks — nil in normal runs, so the token loop pays one nil check per layer

    /// Called after each layer's attention with its softmaxed weights (all heads) for this batch.
    public var onAttention: ((AttentionWeights) -> Void)?
    /// Called after each layer with the residual stream x of this batch, [n × embedding].
    public var onResidual: ((_ layer: Int, _ rows: UnsafeBufferPointer<Float>) -> Void)?

    public let maxBatch = 64
    /// In the last layer of a forward pass: how many of the micro-batch's rows llama.cpp
    /// keeps for the feed-forward (those whose logits are wanted); nil in the other layers.
    var lastLayerRows: Int?
    public let logitChunk = 8
    public let x, xn, q, k, v, attn, gate, up, logits: UnsafeMutablePointer<Float>
    private let owned: [UnsafeMutablePointer<Float>]

    /// Call after reading the architecture's own tensors through `builder`: every width the
    /// buffers below are sized by has then been checked against a tensor in the file.
    public init(_ builder: ModelBuilder, config: ModelConfig) throws {
        let gguf = builder.gguf
        self.gguf = gguf
        self.config = config
        self.tokenizer = builder.tokenizer
        // An untied embedding is only looked up a row at a time: no copy for the kernels.
        let untied = gguf.tensor(named: "output.weight") != nil
        let embedding = WeightSlot(name: "token_embd.weight",
                                   matrix: try ModelBuilder.matrix(gguf, "token_embd.weight", rows: config.vocabulary, cols: config.embedding,
                                                                   forMatmul: !untied))
        tokenEmbeddingSlot = embedding
        if untied {
            outputSlot = WeightSlot(name: "output.weight",
                                    matrix: try ModelBuilder.matrix(gguf, "output.weight", rows: config.vocabulary, cols: config.embedding))
            outputIsTied = false
        } else {
            outputSlot = embedding
            outputIsTied = true
        }
        builder.prepend(outputIsTied ? [embedding] : [embedding, outputSlot])
        outputNorm = try builder.vector("output_norm.weight", count: config.embedding)
        let context = min(builder.contextLength ?? config.contextLength, config.contextLength)
        // The last step that can throw; what the builder holds until `adopt` it frees itself.
        cache = try KVCache(layers: config.layers, capacity: context, kvWidth: config.kvWidth)
        compute = ComputeContext(threads: builder.threads)
        let b = maxBatch
        x = builder.buffer(b * config.embedding); xn = builder.buffer(b * config.embedding)
        q = builder.buffer(b * config.queryWidth); attn = builder.buffer(b * config.queryWidth)
        k = builder.buffer(b * config.kvWidth); v = builder.buffer(b * config.kvWidth)
        gate = builder.buffer(b * config.feedForward); up = builder.buffer(b * config.feedForward)
        logits = builder.buffer(logitChunk * config.vocabulary)
        (slots, owned) = builder.adopt()
    }

    deinit { for p in owned { p.deallocate() } }

    /// Positions already in the cache.
    public var position: Int { cache.count }

    /// Forgets the conversation: the next forward starts at position 0.
    public func reset() { cache.count = 0 }

    /// Drops cached positions from `position` on (e.g. to re-run a shared prefix).
    public func rewind(to position: Int) { cache.count = min(cache.count, max(0, position)) }

    // MARK: the architecture's part

    /// Fills x[0..<n] with the input vectors of `tokens` (default: the embedding rows).
    open func embed(_ tokens: UnsafeBufferPointer<Int32>) {
        for (t, id) in tokens.enumerated() {
            embeddingRow(tokenEmbedding, token: Int(id), out: x + t * config.embedding)
        }
    }

    /// One transformer layer over x[0..<n] at positions pos0..<pos0+n.
    open func block(_ layer: Int, n: Int, pos0: Int) {
        fatalError("\(type(of: self)) must implement block")
    }

    /// The sliding window layer `layer` attends within, or nil when it sees the whole context.
    open func attentionWindow(layer: Int) -> Int? { nil }

    /// Turns final hidden rows (already normed, in xn) into logits; gemma2 soft-caps them here.
    open func head(rows: Int) {
        compute.matmul(outputSlot, xn, logits, n: rows)
    }

    // MARK: forward

    /// Runs `tokens` at positions position..<position+count, adding them to the cache,
    /// and calls `onLogits(i, logits)` for each token index i ≥ `logitsFrom`
    /// with that position's next-token logits ([vocabulary]; valid only during the call).
    /// Stops early (returning false) when `shouldStop` says so between batches.
    @discardableResult
    public func forward(_ tokens: [Int32], logitsFrom: Int,
                        shouldStop: () -> Bool = { false },
                        onLogits: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws -> Bool {
        guard cache.count + tokens.count <= cache.capacity else {
            throw ModelError.promptTooLong(tokens: cache.count + tokens.count, context: cache.capacity)
        }
        for id in tokens where id < 0 || Int(id) >= config.vocabulary {
            throw ModelError.badConfig("token id \(id) is outside the vocabulary of \(config.vocabulary)")
        }
        let d = config.embedding
        var done = 0
        while done < tokens.count {
            if shouldStop() { return false }
            let n = min(maxBatch, tokens.count - done)
            let pos0 = cache.count
            // The size of the llama.cpp micro-batch these tokens would be in (maxBatch
            // divides llamaMicroBatch, so a batch never straddles two).
            let micro = ComputeContext.llamaMicroBatch
            let microStart = done / micro * micro
            let microRows = min(micro, tokens.count - microStart)
            compute.wideMicroBatch = microRows >= ComputeContext.tiledAttentionRows
            // llama.cpp keeps only the rows whose logits are wanted for the last layer's
            // feed-forward (`lastLayerRows`), and its output head sees only those.
            let wanted = max(0, microStart + microRows - max(microStart, logitsFrom))
            tokens.withUnsafeBufferPointer { all in embed(UnsafeBufferPointer(rebasing: all[done..<(done + n)])) }
            compute.microBatchRows = microRows
            defer { compute.microBatchRows = nil; lastLayerRows = nil }
            for layer in 0..<config.layers {
                lastLayerRows = layer == config.layers - 1 ? wanted : nil
                block(layer, n: n, pos0: pos0)
                if let onResidual { onResidual(layer, UnsafeBufferPointer(start: x, count: n * d)) }
            }
            compute.microBatchRows = wanted
            cache.count += n
            // Logits only where asked: the output head is the biggest matrix.
            var r = max(0, logitsFrom - done)
            while r < n {
                let m = min(logitChunk, n - r)
                compute.normRows(x + r * d, weight: outputNorm, out: xn, rows: m, width: d, eps: config.rmsEpsilon)
                head(rows: m)
                for i in 0..<m {
                    try onLogits(done + r + i, UnsafeBufferPointer(start: logits + i * config.vocabulary,
                                                                   count: config.vocabulary))
                }
                r += m
            }
            done += n
        }
        return true
    }

    /// The logits a residual-stream row would give if it were the last layer's output:
    /// final norm, then the output head (the "logit lens"). Uses the forward buffers,
    /// so call it between forward calls, never from a hook.
    public func logits(fromResidual row: UnsafePointer<Float>) -> [Float] {
        rmsNorm(row, weight: outputNorm, out: xn, count: config.embedding, eps: config.rmsEpsilon, mode: compute.mode)
        head(rows: 1)
        return Array(UnsafeBufferPointer(start: logits, count: config.vocabulary))
    }

    /// Runs the prompt and returns the last position's logits, copied.
    public func logitsAfter(_ tokens: [Int32]) throws -> [Float] {
        var last: [Float] = []
        try forward(tokens, logitsFrom: tokens.count - 1) { _, l in last = Array(l) }
        return last
    }

    // MARK: steps that use the model's own buffers and cache (the rest: LayerSteps.swift)

    /// Self-attention of this batch: keys k and values v ([n × kvWidth]) go into the
    /// layer's cache at positions pos0..<pos0+n, then the queries q ([n × queryWidth])
    /// attend over the cache into `attn` ([n × queryWidth]), scores scaled by `scale`,
    /// within `window` recent positions when set, each score s turned into softCap·tanh(s/softCap)
    /// when set (gemma2). Only when `onAttention` is set are the weights written out and handed over.
    public func selfAttention(layer: Int, n: Int, pos0: Int, scale: Float, softCap: Float? = nil, window: Int?) {
        storeKeysAndValues(layer: layer, n: n, pos0: pos0)
        let c = config
        let span = pos0 + n
        let probabilities = onAttention == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: n * c.heads * span)
        defer { probabilities?.deallocate() }
        compute.attentionBatch(q: q, keys: cache.keys(layer), values: cache.values(layer), out: attn, n: n, p0: pos0,
                               heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, scale: scale, softCap: softCap,
                               window: window, probabilities: probabilities)
        if let probabilities, let onAttention {
            onAttention(AttentionWeights(layer: layer, n: n, p0: pos0, heads: c.heads,
                                         weights: UnsafeBufferPointer(start: probabilities, count: n * c.heads * span)))
        }
    }

    /// Copies this batch's keys and values (k, v: [n × kvWidth]) into the layer's cache at
    /// positions pos0..<pos0+n. With llama.cpp's arithmetic (`.q8`) they are rounded to
    /// f16 on the way, as llama.cpp's default f16 KV cache stores them.
    func storeKeysAndValues(layer: Int, n: Int, pos0: Int) {
        let width = config.kvWidth, count = n * width
        let keys = cache.keys(layer) + pos0 * width, values = cache.values(layer) + pos0 * width
        if compute.activations == .q8 {
            for i in 0..<count { keys[i] = roundedToHalf(k[i]); values[i] = roundedToHalf(v[i]) }
        } else {
            keys.update(from: k, count: count)
            values.update(from: v, count: count)
        }
    }

    /// The gated feed-forward of the n rows of `input` ([n × embedding]) into `out`
    /// (may be `input`): out = down · (act(gate · input) ⊙ (up · input)), through the
    /// gate and up buffers ([n × feedForward]).
    public func feedForward(_ kind: FeedForwardKind, gate gateWeight: WeightMatrix, up upWeight: WeightMatrix,
                            down: WeightMatrix, input: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, n: Int) {
        // The last layer's feed-forward runs in llama.cpp on the wanted rows only: one row
        // (a prompt's last token) is summed as decoding sums it.
        let savedRows = compute.microBatchRows
        defer { compute.microBatchRows = savedRows }
        if let rows = lastLayerRows { compute.microBatchRows = rows }
        compute.matmul(gateWeight, input, gate, n: n)
        compute.matmul(upWeight, input, up, n: n)
        let count = n * config.feedForward
        switch kind {
        case .siluGated: siluGate(gate, up: up, count: count, mode: compute.mode)
        case .geluTanhGated: geluTanhGate(gate, up: up, count: count, mode: compute.mode)
        }
        compute.matmul(down, gate, out, n: n)
    }
}

/// One layer's softmaxed attention weights for one batch of n queries at positions p0..<p0+n.
/// `weights` is [n × heads × (p0+n)]: query t, head h reads row (t·heads + h), one weight
/// per key position, zero where the key is masked (in the future or outside the window).
public struct AttentionWeights {
    public let layer: Int
    public let n: Int
    public let p0: Int
    public let heads: Int
    public let weights: UnsafeBufferPointer<Float>

    /// The weight query position p0+t, head h gives key position k (k < p0+n).
    public func weight(query t: Int, head h: Int, key k: Int) -> Float { weights[(t * heads + h) * (p0 + n) + k] }
}
