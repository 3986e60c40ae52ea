import Foundation

/// A llama-architecture model that can learn: the same maths as Models/Llama.swift
/// (RMSNorm, attention with adjacent-pair RoPE, SiLU-gated MLP, output tied to the
/// token embeddings), with every activation kept for the hand-written backward pass.
///
/// Parameters and gradients are each one flat array laid out by `ParameterLayout`.
/// A batch is `batch` sequences of `length` tokens, all starting at position 0.
public final class TrainableLlama<T: TrainingScalar> {
    public let shape: ModelShape
    public let layout: ParameterLayout
    /// [layout.total] each.
    public var parameters: [T]
    public var gradients: [T]
    public let compute: ComputeContext
    let ropeCos: [T], ropeSin: [T]   // [context × headDim/2]

    /// Activations saved by `forward` for `backward`, sized for n = batch·length tokens.
    final class Activations {
        let batch: Int, length: Int
        var n: Int { batch * length }
        var tokens: [Int32] = []
        // per layer, [layers][…]:
        var input: [[T]] = []          // [n × d] residual entering the layer
        var inv1: [[T]] = [], inv2: [[T]] = []   // [n] RMS scales
        var norm1: [[T]] = [], norm2: [[T]] = [] // [n × d]
        var q: [[T]] = [], k: [[T]] = [], v: [[T]] = []  // [n × d], q and k after RoPE
        var probs: [[T]] = []          // [batch × heads × length × length]
        var attn: [[T]] = []           // [n × d] attention output before Wo
        var mid: [[T]] = []            // [n × d] residual after attention
        var gate: [[T]] = [], up: [[T]] = [], hidden: [[T]] = []  // [n × f]
        var final: [T] = []            // [n × d] residual after the last layer
        var invFinal: [T] = []         // [n]
        var normFinal: [T] = []        // [n × d]
        var logits: [T] = []           // [n × vocabulary]; d(loss)/d(logits) after the loss

        init(shape s: ModelShape, batch: Int, length: Int) {
            self.batch = batch; self.length = length
            let n = batch * length, d = s.embedding, f = s.feedForward
            func z(_ c: Int) -> [T] { [T](repeating: 0, count: c) }
            for _ in 0..<s.layers {
                input.append(z(n * d)); inv1.append(z(n)); inv2.append(z(n))
                norm1.append(z(n * d)); norm2.append(z(n * d))
                q.append(z(n * d)); k.append(z(n * d)); v.append(z(n * d))
                probs.append(z(batch * s.heads * length * length))
                attn.append(z(n * d)); mid.append(z(n * d))
                gate.append(z(n * f)); up.append(z(n * f)); hidden.append(z(n * f))
            }
            final = z(n * d); invFinal = z(n); normFinal = z(n * d); logits = z(n * s.vocabulary)
        }
    }
    private var saved: Activations?

    public init(shape: ModelShape, seed: UInt64, threads: Int = 2) {
        self.shape = shape
        layout = ParameterLayout(shape)
        compute = ComputeContext(threads: threads)
        (ropeCos, ropeSin) = TrainingOps.ropeTables(context: shape.context, headDim: shape.headDim, base: shape.ropeBase)
        parameters = [T](repeating: 0, count: layout.total)
        gradients = parameters
        initialize(seed: seed)
    }

    /// Norms at 1; matrices normal(0, 0.02), the two that write into the residual
    /// stream (attn_output, ffn_down) scaled down by sqrt(2·layers) as in GPT-2.
    public func initialize(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let residualScale = 1 / (2 * Double(shape.layers)).squareRoot()
        for t in layout.tensors {
            let isResidualWriter = t.name.hasSuffix("attn_output.weight") || t.name.hasSuffix("ffn_down.weight")
            let std = 0.02 * (isResidualWriter ? residualScale : 1)
            for i in t.offset..<(t.offset + t.count) {
                parameters[i] = t.isNorm ? 1 : T(random.normal() * std)
            }
        }
    }

    // MARK: forward

    /// Runs the batch and returns the mean cross-entropy over positions whose target
    /// is ≥ 0 (nil when none are). tokens, targets: [batch × length].
    /// With `keepForBackward`, activations are kept and logits replaced by their gradient.
    @discardableResult
    public func forward(tokens: [Int32], targets: [Int32], batch: Int, length: Int, keepForBackward: Bool = true) -> Double? {
        precondition(tokens.count == batch * length && targets.count == tokens.count && length <= shape.context)
        let a = activations(batch: batch, length: length)
        a.tokens = tokens
        runLayers(a)
        let (sum, count) = a.logits.withUnsafeMutableBufferPointer { l in
            TrainingOps.crossEntropy(l.baseAddress!, targets: targets, vocabulary: shape.vocabulary,
                                     gradient: keepForBackward, compute: compute)
        }
        return count > 0 ? sum / Double(count) : nil
    }

    /// Next-token logits for every position of one sequence, [tokens.count × vocabulary].
    public func logits(_ tokens: [Int32]) -> [T] {
        let a = activations(batch: 1, length: tokens.count)
        a.tokens = tokens
        runLayers(a)
        return a.logits
    }

    private func activations(batch: Int, length: Int) -> Activations {
        if let s = saved, s.batch == batch, s.length == length { return s }
        let a = Activations(shape: shape, batch: batch, length: length)
        saved = a
        return a
    }

    private func runLayers(_ a: Activations) {
        let s = shape, d = s.embedding, f = s.feedForward, n = a.n, eps = T(s.rmsEpsilon)
        parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            var x = [T](repeating: 0, count: n * d)
            TrainingOps.embedding(a.tokens, table: p + layout.tokenEmbedding, x: &x, width: d)
            for (l, w) in layout.layers.enumerated() {
                a.input[l] = x
                TrainingOps.rmsNorm(x, weight: p + w.attnNorm, y: &a.norm1[l], inv: &a.inv1[l], n: n, width: d, eps: eps)
                TrainingOps.linear(a.norm1[l], p + w.wq, &a.q[l], n: n, rows: d, cols: d, compute: compute)
                TrainingOps.linear(a.norm1[l], p + w.wk, &a.k[l], n: n, rows: d, cols: d, compute: compute)
                TrainingOps.linear(a.norm1[l], p + w.wv, &a.v[l], n: n, rows: d, cols: d, compute: compute)
                ropeCos.withUnsafeBufferPointer { c in
                    ropeSin.withUnsafeBufferPointer { sn in
                        TrainingOps.rope(&a.q[l], n: n, length: a.length, heads: s.heads, headDim: s.headDim,
                                         cos: c.baseAddress!, sin: sn.baseAddress!)
                        TrainingOps.rope(&a.k[l], n: n, length: a.length, heads: s.heads, headDim: s.headDim,
                                         cos: c.baseAddress!, sin: sn.baseAddress!)
                    }
                }
                TrainingOps.attention(q: a.q[l], k: a.k[l], v: a.v[l], out: &a.attn[l], probs: &a.probs[l],
                                      batch: a.batch, length: a.length, heads: s.heads, headDim: s.headDim, compute: compute)
                var delta = [T](repeating: 0, count: n * d)
                TrainingOps.linear(a.attn[l], p + w.wo, &delta, n: n, rows: d, cols: d, compute: compute)
                for i in 0..<(n * d) { x[i] += delta[i] }
                a.mid[l] = x
                TrainingOps.rmsNorm(x, weight: p + w.ffnNorm, y: &a.norm2[l], inv: &a.inv2[l], n: n, width: d, eps: eps)
                TrainingOps.linear(a.norm2[l], p + w.gate, &a.gate[l], n: n, rows: f, cols: d, compute: compute)
                TrainingOps.linear(a.norm2[l], p + w.up, &a.up[l], n: n, rows: f, cols: d, compute: compute)
                TrainingOps.siluGate(gate: a.gate[l], up: a.up[l], out: &a.hidden[l], count: n * f)
                TrainingOps.linear(a.hidden[l], p + w.down, &delta, n: n, rows: d, cols: f, compute: compute)
                for i in 0..<(n * d) { x[i] += delta[i] }
            }
            a.final = x
            TrainingOps.rmsNorm(x, weight: p + layout.outputNorm, y: &a.normFinal, inv: &a.invFinal, n: n, width: d, eps: eps)
            TrainingOps.linear(a.normFinal, p + layout.tokenEmbedding, &a.logits, n: n, rows: s.vocabulary, cols: d,
                               compute: compute)
        }
    }

    // MARK: backward

    /// Adds d(loss)/d(parameters) of the last `forward(keepForBackward: true)` into `gradients`.
    public func backward() {
        guard let a = saved else { preconditionFailure("backward() needs a forward pass first") }
        let s = shape, d = s.embedding, f = s.feedForward, n = a.n
        func zeros(_ c: Int) -> [T] { [T](repeating: 0, count: c) }
        var dx = zeros(n * d)                 // gradient of the residual stream
        var dNorm = zeros(n * d)
        var dq = zeros(n * d), dk = zeros(n * d), dv = zeros(n * d), dAttn = zeros(n * d)
        var dHidden = zeros(n * f), dGate = zeros(n * f), dUp = zeros(n * f)
        func clear(_ v: inout [T]) { for i in v.indices { v[i] = 0 } }

        parameters.withUnsafeBufferPointer { pb in
            gradients.withUnsafeMutableBufferPointer { gb in
                let p = pb.baseAddress!, g = gb.baseAddress!
                // Output head (tied) and final norm.
                TrainingOps.linearBackward(a.normFinal, p + layout.tokenEmbedding, a.logits, dx: &dNorm,
                                           dw: g + layout.tokenEmbedding, n: n, rows: s.vocabulary, cols: d, compute: compute)
                TrainingOps.rmsNormBackward(a.final, weight: p + layout.outputNorm, inv: a.invFinal, dy: dNorm, dx: &dx,
                                            dw: g + layout.outputNorm, n: n, width: d)
                for (l, w) in layout.layers.enumerated().reversed() {
                    // Feed-forward: x_out = mid + down·(silu(gate·n2) ⊙ up·n2).
                    clear(&dHidden); clear(&dGate); clear(&dUp); clear(&dNorm)
                    TrainingOps.linearBackward(a.hidden[l], p + w.down, dx, dx: &dHidden, dw: g + w.down,
                                               n: n, rows: d, cols: f, compute: compute)
                    TrainingOps.siluGateBackward(gate: a.gate[l], up: a.up[l], dh: dHidden, dgate: &dGate, dup: &dUp, count: n * f)
                    TrainingOps.linearBackward(a.norm2[l], p + w.gate, dGate, dx: &dNorm, dw: g + w.gate,
                                               n: n, rows: f, cols: d, compute: compute)
                    TrainingOps.linearBackward(a.norm2[l], p + w.up, dUp, dx: &dNorm, dw: g + w.up,
                                               n: n, rows: f, cols: d, compute: compute)
                    TrainingOps.rmsNormBackward(a.mid[l], weight: p + w.ffnNorm, inv: a.inv2[l], dy: dNorm, dx: &dx,
                                                dw: g + w.ffnNorm, n: n, width: d)
                    // Attention: mid = input + wo·attention(rope(wq·n1), rope(wk·n1), wv·n1).
                    clear(&dAttn); clear(&dq); clear(&dk); clear(&dv); clear(&dNorm)
                    TrainingOps.linearBackward(a.attn[l], p + w.wo, dx, dx: &dAttn, dw: g + w.wo,
                                               n: n, rows: d, cols: d, compute: compute)
                    TrainingOps.attentionBackward(q: a.q[l], k: a.k[l], v: a.v[l], probs: a.probs[l], dout: dAttn,
                                                  dq: &dq, dk: &dk, dv: &dv, batch: a.batch, length: a.length,
                                                  heads: s.heads, headDim: s.headDim, compute: compute)
                    ropeCos.withUnsafeBufferPointer { c in
                        ropeSin.withUnsafeBufferPointer { sn in
                            TrainingOps.ropeBackward(&dq, n: n, length: a.length, heads: s.heads, headDim: s.headDim,
                                                     cos: c.baseAddress!, sin: sn.baseAddress!)
                            TrainingOps.ropeBackward(&dk, n: n, length: a.length, heads: s.heads, headDim: s.headDim,
                                                     cos: c.baseAddress!, sin: sn.baseAddress!)
                        }
                    }
                    TrainingOps.linearBackward(a.norm1[l], p + w.wq, dq, dx: &dNorm, dw: g + w.wq, n: n, rows: d, cols: d, compute: compute)
                    TrainingOps.linearBackward(a.norm1[l], p + w.wk, dk, dx: &dNorm, dw: g + w.wk, n: n, rows: d, cols: d, compute: compute)
                    TrainingOps.linearBackward(a.norm1[l], p + w.wv, dv, dx: &dNorm, dw: g + w.wv, n: n, rows: d, cols: d, compute: compute)
                    TrainingOps.rmsNormBackward(a.input[l], weight: p + w.attnNorm, inv: a.inv1[l], dy: dNorm, dx: &dx,
                                                dw: g + w.attnNorm, n: n, width: d)
                }
                TrainingOps.embeddingBackward(a.tokens, dx: dx, dtable: g + layout.tokenEmbedding, width: d)
            }
        }
    }

    public func zeroGradients() {
        for i in gradients.indices { gradients[i] = 0 }
    }
}
