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
    /// Float runs in register tiles (linearF32), with the very bits of linearReference.
    public static func linear<T: TrainingScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                 n: Int, rows: Int, cols: Int, compute: ComputeContext) {
        if T.self == Float.self {
            linearF32(asFloats(x), asFloats(w), asFloats(y), n: n, rows: rows, cols: cols, compute: compute)
        } else {
            linearReference(x, w, y, n: n, rows: rows, cols: cols, compute: compute)
        }
    }

    /// linear as the plain loop: one dot product per output (dotF32 for Float).
    public static func linearReference<T: TrainingScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                          n: Int, rows: Int, cols: Int, compute: ComputeContext) {
        compute.parallelFor(n) { t in
            let xt = x + t * cols, yt = y + t * rows
            for o in 0..<rows { yt[o] = T.dot(xt, w + o * cols, count: cols) }
        }
    }

    /// dx[t, :] += Σ_o dy[t, o]·w[o, :]   and   dw[o, :] += Σ_t dy[t, o]·x[t, :].
    /// dx may be nil when the input needs no gradient. Float runs in register tiles
    /// (accumulateF32), with the very bits of linearBackwardReference.
    public static func linearBackward<T: TrainingScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>,
                                                         dx: UnsafeMutablePointer<T>?, dw: UnsafeMutablePointer<T>,
                                                         n: Int, rows: Int, cols: Int, compute: ComputeContext) {
        guard T.self == Float.self else {
            return linearBackwardReference(x, w, dy, dx: dx, dw: dw, n: n, rows: rows, cols: cols, compute: compute)
        }
        if let dx {
            accumulateF32(into: asFloats(dx), g: asFloats(dy), gRow: rows, gK: 1, v: asFloats(w),
                          outRows: n, inner: rows, cols: cols, compute: compute)
        }
        accumulateF32(into: asFloats(dw), g: asFloats(dy), gRow: 1, gK: rows, v: asFloats(x),
                      outRows: rows, inner: n, cols: cols, compute: compute)
    }

    /// linearBackward as the plain loops: axpy over o in order for dx, over t in order for dw,
    /// skipping dy = 0 (which is not the same as adding 0·w: −0 + +0 is +0, and 0·∞ is NaN).
    public static func linearBackwardReference<T: TrainingScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>,
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

    /// linear for Float: two tokens × sixteen outputs at a time, the outputs in the vector lanes.
    /// dotF32 keeps 32 lane sums: lane j < 16 adds x[i]·w[i] for i = j, j+32, j+64, … and then
    /// for the 16-block past the last whole 32 (if any); lane 16+j for i = 16+j, 48+j, …; then
    /// adds lane 16+j to lane j, sums lanes 0…15 in order, and adds the last cols % 16 products
    /// one by one. Here each such partial sum is a SIMD16 holding it for sixteen outputs: the
    /// same additions lane for lane, and the horizontal sum becomes sixteen vertical adds.
    /// Outputs outside whole tiles (an odd last token, rows past the last 16) call dotF32 itself.
    static func linearF32(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          n: Int, rows: Int, cols: Int, compute: ComputeContext) {
        let blocks = rows / 16, thirtyTwos = cols / 32, hasSixteen = cols % 32 >= 16, tail = cols - cols % 16
        // w's rows in blocks of 16, each block transposed: [blocks × cols × 16], element
        // (b, i, l) = w[16b + l, i], so one contiguous load is w[·, i] for a block's outputs.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, blocks * cols * 16)) { buffer in
            let panels = buffer.baseAddress!
            for o in 0..<(16 * blocks) { for i in 0..<cols { panels[(o / 16 * cols + i) * 16 + o % 16] = w[o * cols + i] } }
            compute.forEachChunk((n + 1) / 2) { pairs, _ in
                for b in 0..<blocks {
                    let panel = UnsafePointer(panels + b * cols * 16)   // [cols × 16]
                    for pair in pairs where 2 * pair + 1 < n {
                        let x0 = x + 2 * pair * cols, x1 = x0 + cols
                        var sum0 = SIMD16<Float>(), sum1 = SIMD16<Float>()
                        for j in 0..<16 {
                            var a0 = SIMD16<Float>(), b0 = a0, a1 = a0, b1 = a0   // lanes j and 16+j, both tokens
                            var i = j
                            for _ in 0..<thirtyTwos {
                                let wa = load(panel + 16 * i), wb = load(panel + 16 * (i + 16))
                                a0 += x0[i] * wa; a1 += x1[i] * wa
                                b0 += x0[i + 16] * wb; b1 += x1[i + 16] * wb
                                i += 32
                            }
                            if hasSixteen { let wa = load(panel + 16 * i); a0 += x0[i] * wa; a1 += x1[i] * wa }
                            // sum() starts from −0, and −0 + s is s exactly.
                            if j == 0 { sum0 = a0 + b0; sum1 = a1 + b1 } else { sum0 += a0 + b0; sum1 += a1 + b1 }
                        }
                        for i in tail..<cols { let wi = load(panel + 16 * i); sum0 += x0[i] * wi; sum1 += x1[i] * wi }
                        store(sum0, y + 2 * pair * rows + 16 * b)
                        store(sum1, y + (2 * pair + 1) * rows + 16 * b)
                    }
                }
                // Outside the tiles: rows past the last 16 of every token, every row of an odd last token.
                for t in (2 * pairs.lowerBound)..<min(n, 2 * pairs.upperBound) {
                    let first = 2 * (t / 2) + 1 < n ? 16 * blocks : 0
                    for o in first..<rows { y[t * rows + o] = dotF32(x + t * cols, w + o * cols, count: cols) }
                }
            }
        }
    }

    /// out[r, :] += Σ_k g[r, k]·v[k, :] over k in order, skipping g = 0: linearBackward's two axpy
    /// loops as one kernel (dx: g = dy, v = w;  dw: g = dyᵀ, v = x). Four rows × sixteen columns of
    /// out stay in registers while k runs, so one load of v serves four rows; each element still
    /// gets out + g·v, multiply then add, in the order of k, as axpyF32 does.
    /// g[r, k] is g[r·gRow + k·gK] (so dyᵀ is dy read across), v: [inner × cols], out: [outRows × cols].
    static func accumulateF32(into out: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, gRow: Int, gK: Int,
                              v: UnsafePointer<Float>, outRows: Int, inner: Int, cols: Int, compute: ComputeContext) {
        let tiles = outRows / 4, panels = cols / 16
        let kBlock = 128   // k's per pass over a thread's tiles, so that slice of v stays in cache for all of them
        // v's columns in panels of 16, [panels × inner × 16], so the k loop reads memory in order
        // (v's own rows lie cols floats apart: for cols = 256 only a few cache sets).
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, panels * inner * 16)) { buffer in
            let packed = buffer.baseAddress!
            for k in 0..<inner { for c in 0..<(16 * panels) { packed[(c / 16 * inner + k) * 16 + c % 16] = v[k * cols + c] } }
            compute.forEachChunk((outRows + 3) / 4) { chunk, _ in
                for k0 in stride(from: 0, to: inner, by: kBlock) {
                    for tile in chunk where tile < tiles {
                        let r = 4 * tile
                        let g0 = g + r * gRow, g1 = g0 + gRow, g2 = g1 + gRow, g3 = g2 + gRow
                        for p in 0..<panels {
                            let panel = UnsafePointer(packed + p * inner * 16)   // [inner × 16]
                            let out0 = out + r * cols + 16 * p, out1 = out0 + cols, out2 = out1 + cols, out3 = out2 + cols
                            var a0 = load(out0), a1 = load(out1), a2 = load(out2), a3 = load(out3)
                            for k in k0..<min(inner, k0 + kBlock) {
                                let vk = load(panel + 16 * k), at = k * gK
                                if g0[at] != 0 { a0 += g0[at] * vk }
                                if g1[at] != 0 { a1 += g1[at] * vk }
                                if g2[at] != 0 { a2 += g2[at] * vk }
                                if g3[at] != 0 { a3 += g3[at] * vk }
                            }
                            store(a0, out0); store(a1, out1); store(a2, out2); store(a3, out3)
                        }
                    }
                }
                // The rest as the plain loop: columns past the last panel, every column of rows past the last tile.
                for r in (4 * chunk.lowerBound)..<min(outRows, 4 * chunk.upperBound) {
                    let first = r < 4 * tiles ? 16 * panels : 0
                    guard first < cols else { continue }
                    for k in 0..<inner where g[r * gRow + k * gK] != 0 {
                        axpyF32(g[r * gRow + k * gK], v + k * cols + first, out + r * cols + first, count: cols - first)
                    }
                }
            }
        }
    }

    @inline(__always) private static func asFloats<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }
    @inline(__always) private static func asFloats<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }
    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) private static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
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
