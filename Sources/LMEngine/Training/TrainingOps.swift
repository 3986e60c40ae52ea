import Foundation

/// The trainer's operations, each a forward and its hand-written backward.
///
/// Conventions: activations are token-major rows ([n × width], row t is token t),
/// weight matrices are row-major [rows × cols] exactly as GGUF stores them
/// (y = W·x means y[o] = Σ_i W[o, i]·x[i]). Backward functions *add* into the
/// gradients they are given (dx, dw), so the caller zeroes them once and several
/// uses of one tensor (a residual, the tied embedding) simply accumulate.
/// Work is split across threads by rows of the output each thread owns, so
/// results do not depend on the thread count.
public enum TrainingOps {
    // MARK: linear

    /// y[t, o] = Σ_i x[t, i]·w[o, i].   x: [n × cols], w: [rows × cols], y: [n × rows].
    public static func linear<T: TrainingScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                 n: Int, rows: Int, cols: Int, compute: ComputeContext) {
        compute.parallelFor(n) { t in
            let xt = x + t * cols, yt = y + t * rows
            for o in 0..<rows { yt[o] = T.dot(xt, w + o * cols, count: cols) }
        }
    }

    /// dx[t, :] += Σ_o dy[t, o]·w[o, :]   and   dw[o, :] += Σ_t dy[t, o]·x[t, :].
    /// dx may be nil when the input needs no gradient.
    public static func linearBackward<T: TrainingScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>,
                                                         dx: UnsafeMutablePointer<T>?, dw: UnsafeMutablePointer<T>,
                                                         n: Int, rows: Int, cols: Int, compute: ComputeContext) {
        if let dx {
            compute.parallelFor(n) { t in
                let dyt = dy + t * rows, dxt = dx + t * cols
                for o in 0..<rows where dyt[o] != 0 { T.axpy(dyt[o], w + o * cols, dxt, count: cols) }
            }
        }
        compute.parallelFor(rows) { o in
            let dwo = dw + o * cols
            for t in 0..<n {
                let g = dy[t * rows + o]
                if g != 0 { T.axpy(g, x + t * cols, dwo, count: cols) }
            }
        }
    }

    // MARK: embedding

    /// x[t, :] = table[tokens[t], :].   table: [vocabulary × width], x: [n × width].
    public static func embedding<T: TrainingScalar>(_ tokens: [Int32], table: UnsafePointer<T>, x: UnsafeMutablePointer<T>, width: Int) {
        for (t, id) in tokens.enumerated() { (x + t * width).update(from: table + Int(id) * width, count: width) }
    }

    /// dtable[tokens[t], :] += dx[t, :] (one thread: two tokens may share a row).
    public static func embeddingBackward<T: TrainingScalar>(_ tokens: [Int32], dx: UnsafePointer<T>, dtable: UnsafeMutablePointer<T>, width: Int) {
        for (t, id) in tokens.enumerated() { T.axpy(1, dx + t * width, dtable + Int(id) * width, count: width) }
    }

    // MARK: RMSNorm

    /// y = x · r · w with r = 1/sqrt(mean(x²) + eps), per row; r is saved for backward.
    /// x, y: [n × width], w: [width], inv: [n].
    public static func rmsNorm<T: TrainingScalar>(_ x: UnsafePointer<T>, weight w: UnsafePointer<T>, y: UnsafeMutablePointer<T>,
                                                  inv: UnsafeMutablePointer<T>, n: Int, width: Int, eps: T) {
        for t in 0..<n {
            let xt = x + t * width, yt = y + t * width
            var sum: T = 0
            for i in 0..<width { sum += xt[i] * xt[i] }
            let r = 1 / (sum / T(width) + eps).squareRoot()
            inv[t] = r
            for i in 0..<width { yt[i] = (xt[i] * r) * w[i] }
        }
    }

    /// With g = dy·w:  dx += r·g − x·r³·(Σ g·x)/width,   dw += dy·x·r.
    public static func rmsNormBackward<T: TrainingScalar>(_ x: UnsafePointer<T>, weight w: UnsafePointer<T>, inv: UnsafePointer<T>,
                                                          dy: UnsafePointer<T>, dx: UnsafeMutablePointer<T>, dw: UnsafeMutablePointer<T>,
                                                          n: Int, width: Int) {
        for t in 0..<n {
            let xt = x + t * width, dyt = dy + t * width, dxt = dx + t * width
            let r = inv[t]
            var gx: T = 0
            for i in 0..<width { gx += dyt[i] * w[i] * xt[i] }
            let c = r * r * r * gx / T(width)
            for i in 0..<width {
                dxt[i] += r * dyt[i] * w[i] - xt[i] * c
                dw[i] += dyt[i] * xt[i] * r
            }
        }
    }

    // MARK: RoPE

    /// cos/sin for every position and pair, computed exactly as the engine's fast
    /// RoPE does (theta = pos, multiplied by base^(-2/headDim) in float per pair),
    /// so the exported model rotates by the very same angles.   [context × headDim/2] each.
    public static func ropeTables<T: TrainingScalar>(context: Int, headDim: Int, base: Float) -> (cos: [T], sin: [T]) {
        let pairs = headDim / 2
        var c = [T](repeating: 0, count: context * pairs), s = c
        let thetaScale = powf(base, -2 / Float(headDim))
        for pos in 0..<context {
            var theta = Float(pos)
            for i in 0..<pairs {
                c[pos * pairs + i] = T(cosf(theta))
                s[pos * pairs + i] = T(sinf(theta))
                theta *= thetaScale
            }
        }
        return (c, s)
    }

    /// Rotates adjacent pairs (2i, 2i+1) of every head in place; token t sits at
    /// position t % length (each sequence of the batch starts at 0).
    /// v: [n × heads·headDim], cos/sin: [context × headDim/2].
    public static func rope<T: TrainingScalar>(_ v: UnsafeMutablePointer<T>, n: Int, length: Int, heads: Int, headDim: Int,
                                               cos: UnsafePointer<T>, sin: UnsafePointer<T>, inverse: Bool = false) {
        let pairs = headDim / 2, width = heads * headDim
        for t in 0..<n {
            let table = (t % length) * pairs
            for h in 0..<heads {
                let x = v + t * width + h * headDim
                for i in 0..<pairs {
                    let c = cos[table + i], s = inverse ? -sin[table + i] : sin[table + i]
                    let x0 = x[2 * i], x1 = x[2 * i + 1]
                    x[2 * i] = x0 * c - x1 * s
                    x[2 * i + 1] = x0 * s + x1 * c
                }
            }
        }
    }

    /// A rotation's gradient is the gradient rotated back (the transpose is the inverse).
    public static func ropeBackward<T: TrainingScalar>(_ dv: UnsafeMutablePointer<T>, n: Int, length: Int, heads: Int, headDim: Int,
                                                       cos: UnsafePointer<T>, sin: UnsafePointer<T>) {
        rope(dv, n: n, length: length, heads: heads, headDim: headDim, cos: cos, sin: sin, inverse: true)
    }

    // MARK: causal attention

    /// For each sequence b and head h: p[i, j] = softmax_j≤i(scale · q_i·k_j), out_i = Σ_j p[i, j]·v_j.
    /// q, k, v, out: [batch·length × heads·headDim];  probs: [batch × heads × length × length] (saved).
    public static func attention<T: TrainingScalar>(q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>,
                                                    out: UnsafeMutablePointer<T>, probs: UnsafeMutablePointer<T>,
                                                    batch: Int, length: Int, heads: Int, headDim: Int, compute: ComputeContext) {
        let width = heads * headDim, scale = 1 / T(headDim).squareRoot()
        compute.parallelFor(batch * heads) { bh in
            let b = bh / heads, h = bh % heads
            let base = b * length * width + h * headDim
            let p = probs + bh * length * length
            for i in 0..<length {
                let qi = q + base + i * width, row = p + i * length
                var top = -T.greatestFiniteMagnitude
                for j in 0...i {
                    row[j] = scale * T.dot(qi, k + base + j * width, count: headDim)
                    top = max(top, row[j])
                }
                var sum: T = 0
                for j in 0...i { row[j] = T.exp(row[j] - top); sum += row[j] }
                for j in 0...i { row[j] /= sum }
                for j in (i + 1)..<length { row[j] = 0 }
                let oi = out + base + i * width
                for d in 0..<headDim { oi[d] = 0 }
                for j in 0...i { T.axpy(row[j], v + base + j * width, oi, count: headDim) }
            }
        }
    }

    /// dv_j += Σ_i p[i,j]·dout_i;  dp[i,j] = dout_i·v_j;  ds = p ⊙ (dp − Σ_j p·dp);
    /// dq_i += scale Σ_j ds[i,j]·k_j;  dk_j += scale Σ_i ds[i,j]·q_i.
    /// Each (sequence, head) pair owns its slices of dq, dk, dv, so the pairs run in parallel.
    public static func attentionBackward<T: TrainingScalar>(q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>,
                                                            probs: UnsafePointer<T>, dout: UnsafePointer<T>,
                                                            dq: UnsafeMutablePointer<T>, dk: UnsafeMutablePointer<T>, dv: UnsafeMutablePointer<T>,
                                                            batch: Int, length: Int, heads: Int, headDim: Int, compute: ComputeContext) {
        let width = heads * headDim, scale = 1 / T(headDim).squareRoot()
        compute.parallelFor(batch * heads) { bh in
            let b = bh / heads, h = bh % heads
            let base = b * length * width + h * headDim
            let p = probs + bh * length * length
            withUnsafeTemporaryAllocation(of: T.self, capacity: length) { ds in
                for i in 0..<length {
                    let row = p + i * length, doi = dout + base + i * width
                    var dot: T = 0
                    for j in 0...i {
                        T.axpy(row[j], doi, dv + base + j * width, count: headDim)
                        ds[j] = T.dot(doi, v + base + j * width, count: headDim)
                        dot += row[j] * ds[j]
                    }
                    let qi = q + base + i * width, dqi = dq + base + i * width
                    for j in 0...i {
                        let g = scale * row[j] * (ds[j] - dot)
                        T.axpy(g, k + base + j * width, dqi, count: headDim)
                        T.axpy(g, qi, dk + base + j * width, count: headDim)
                    }
                }
            }
        }
    }

    // MARK: SiLU-gated MLP

    /// h = silu(g) · u with silu(g) = g·σ(g).   g, u, h: [count].
    public static func siluGate<T: TrainingScalar>(gate g: UnsafePointer<T>, up u: UnsafePointer<T>, out h: UnsafeMutablePointer<T>, count: Int) {
        for i in 0..<count { h[i] = g[i] / (1 + T.exp(-g[i])) * u[i] }
    }

    /// dg += dh·u·σ(g)(1 + g(1 − σ(g))),   du += dh·silu(g).
    public static func siluGateBackward<T: TrainingScalar>(gate g: UnsafePointer<T>, up u: UnsafePointer<T>, dh: UnsafePointer<T>,
                                                           dgate: UnsafeMutablePointer<T>, dup: UnsafeMutablePointer<T>, count: Int) {
        for i in 0..<count {
            let s = 1 / (1 + T.exp(-g[i]))
            dgate[i] += dh[i] * u[i] * s * (1 + g[i] * (1 - s))
            dup[i] += dh[i] * g[i] * s
        }
    }

    // MARK: cross-entropy

    /// Mean over counted positions of −log softmax(logits[t])[target[t]]; a target < 0
    /// is not counted. Replaces logits by d(loss)/d(logits) when `gradient` is true.
    /// logits: [n × vocabulary]. Returns (summed loss, positions counted).
    @discardableResult
    public static func crossEntropy<T: TrainingScalar>(_ logits: UnsafeMutablePointer<T>, targets: [Int32], vocabulary: Int,
                                                       gradient: Bool, compute: ComputeContext) -> (sum: Double, count: Int) {
        let n = targets.count
        let counted = targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        var losses = [Double](repeating: 0, count: n)
        losses.withUnsafeMutableBufferPointer { lossOf in
            compute.parallelFor(n) { t in
                let row = logits + t * vocabulary
                let target = Int(targets[t])
                guard target >= 0 else {
                    if gradient { for v in 0..<vocabulary { row[v] = 0 } }
                    return
                }
                var top = -T.greatestFiniteMagnitude
                for v in 0..<vocabulary { top = max(top, row[v]) }
                var sum: T = 0
                for v in 0..<vocabulary { sum += T.exp(row[v] - top) }
                let logZ = top + T.log(sum)
                lossOf[t] = Double(logZ - row[target])
                if gradient {
                    let w = 1 / T(counted)
                    for v in 0..<vocabulary { row[v] = T.exp(row[v] - logZ) * w }
                    row[target] -= w
                }
            }
        }
        return (losses.reduce(0, +), counted)
    }
}
