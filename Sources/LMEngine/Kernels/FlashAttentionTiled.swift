import Foundation

/// Attention as llama.cpp computes it for a wide micro-batch: its CPU flash attention takes
/// a tiled f32 path (`ggml_compute_forward_flash_attn_ext_tiled`) when a micro-batch has at
/// least 64 query rows (GGML_FA_TILE_Q), instead of the one-row f16 path of
/// FlashAttentionHalf.swift. Same idea as `attentionReference`; what differs is where it
/// rounds:
///   - the query stays f32 (the one-row path rounds it to f16); keys and values are the
///     cache's f16 values widened to f32;
///   - keys come in tiles of 64 positions (GGML_FA_TILE_KV) from cache cell 0; each score
///     is one fused multiply-add chain over the head's elements (its `simd_gemm` keeps a
///     key in one lane), times the scale (and soft-capped);
///   - the online softmax moves per tile, not per key: the tile's max M, the running output
///     and sum rescaled by expf(M_old − M) when M grows, the tile's e^(s − M) by ggml's
///     vector exp (`ggmlExp`), summed 16 at a time as `_mm512_reduce_add_ps` does and the
///     four sums in double (`ggml_vec_soft_max_f32`), the running output kept in f32;
///   - out = V · (1/S).
/// A tile where this query sees no key is skipped, which is what ggml's all-masked skip
/// and its −∞ padding come to for one row; so the rows of one query tile never mix, and
/// one row can be computed alone.

/// The keys of one tile (`tiledAttentionKeys` positions).
let tiledAttentionKeys = 64

/// One query row over keys first...last, the plain loop.
/// q, out: [headDim]; keys/values: the layer's cache (f16-rounded floats) at this kv head,
/// `stride` floats per position.
func flashAttentionTiledReference(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                  stride: Int, first: Int, last: Int, headDim: Int, score: AttentionScore,
                                  out: UnsafeMutablePointer<Float>) {
    let tile = tiledAttentionKeys
    var m = -Float.infinity, sum: Float = 0
    var p = [Float](repeating: 0, count: tile)   // the tile's scores, then its e^(s − M)
    for d in 0..<headDim { out[d] = 0 }
    for start in Swift.stride(from: first / tile * tile, through: last, by: tile) {
        // 1. Scores; keys this query may not see are −∞ (the mask).
        var tileMax = -Float.infinity
        for j in 0..<tile {
            let k = start + j
            guard k >= first && k <= last else { p[j] = -.infinity; continue }
            var dot: Float = 0
            for d in 0..<headDim { dot = dot.addingProduct(q[d], keys[k * stride + d]) }
            p[j] = score(dot)
            tileMax = max(tileMax, p[j])
        }
        // 2. A new maximum rescales what is summed so far.
        let newMax = max(m, tileMax)
        if newMax > m {
            let ms = expf(m - newMax)
            for d in 0..<headDim { out[d] *= ms }
            sum *= ms
        }
        m = newMax
        // 3. e^(s − M) for the tile, summed in groups of 16 lanes, the groups in double.
        var tileSum = 0.0
        for g in 0..<(tile / 16) {
            for l in 0..<16 { p[16 * g + l] = ggmlExp(p[16 * g + l] - m) }
            tileSum += Double(reduceAdd16Reference(Array(p[(16 * g)..<(16 * g + 16)])))
        }
        sum = Float(Double(sum) + tileSum)
        // 4. The tile's values, weighted, into the running output (one fma chain per element).
        for j in 0..<tile where p[j] != 0 {
            let v = values + (start + j) * stride
            for d in 0..<headDim { out[d] = out[d].addingProduct(p[j], v[d]) }
        }
    }
    let inverse: Float = sum == 0 ? 0 : 1 / sum
    for d in 0..<headDim { out[d] *= inverse }
}

/// `_mm512_reduce_add_ps` as a plain loop: lanes i and i+8, then i and i+4 of those, then
/// (0+2) and (1+3), then the two.
func reduceAdd16Reference(_ v: [Float]) -> Float {
    var eight = [Float](repeating: 0, count: 8)
    for i in 0..<8 { eight[i] = v[i + 8] + v[i] }
    var four = [Float](repeating: 0, count: 4)
    for i in 0..<4 { four[i] = eight[i + 4] + eight[i] }
    return (four[0] + four[2]) + (four[1] + four[3])
}

/// The keys of one kv head laid out for `flashAttentionTiled`: per tile of 64 positions,
/// element-major, [tiles × headDim × 64] (position t·64+j's element d at (t·headDim + d)·64 + j),
/// zero past the last position. keys: the cache at this kv head, `stride` floats per position.
func packKeysForTiles(_ keys: UnsafePointer<Float>, stride: Int, positions: Int, headDim: Int,
                      into packed: UnsafeMutablePointer<Float>) {
    let tile = tiledAttentionKeys
    let tiles = (positions + tile - 1) / tile
    packed.update(repeating: 0, count: tiles * headDim * tile)
    for k in 0..<positions {
        let t = k / tile, j = k % tile
        let row = keys + k * stride, base = packed + t * headDim * tile + j
        for d in 0..<headDim { base[d * tile] = row[d] }
    }
}

/// `flashAttentionTiledReference` with the 64 scores of a tile in four 16-lane chains over
/// the packed keys (`packKeysForTiles`), bit-identical to it. packedKeys: this kv head's.
/// headDim must be a multiple of 16.
func flashAttentionTiled(q: UnsafePointer<Float>, packedKeys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                         stride: Int, first: Int, last: Int, headDim: Int, score: AttentionScore,
                         out: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let tile = tiledAttentionKeys
    let o = UnsafeMutableRawPointer(out)
    var m = -Float.infinity, sum: Float = 0
    out.update(repeating: 0, count: headDim)
    for start in Swift.stride(from: first / tile * tile, through: last, by: tile) {
        let kt = UnsafeRawPointer(packedKeys + (start / tile) * headDim * tile)
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        for d in 0..<headDim {
            let qd = V(repeating: q[d]), row = 4 * d * tile
            a0 = a0.addingProduct(qd, kt.loadUnaligned(fromByteOffset: row, as: V.self))
            a1 = a1.addingProduct(qd, kt.loadUnaligned(fromByteOffset: row + 64, as: V.self))
            a2 = a2.addingProduct(qd, kt.loadUnaligned(fromByteOffset: row + 128, as: V.self))
            a3 = a3.addingProduct(qd, kt.loadUnaligned(fromByteOffset: row + 192, as: V.self))
        }
        var s = (a0, a1, a2, a3)
        // Scores, the mask, and the tile's max, lane by lane (64 scalar steps against
        // 4·headDim vector ones above).
        var tileMax = -Float.infinity
        let lo = max(first - start, 0), hi = min(last - start, tile - 1)
        withUnsafeMutableBytes(of: &s) { raw in
            let p = raw.bindMemory(to: Float.self).baseAddress!
            for j in 0..<tile {
                if j < lo || j > hi { p[j] = 0; continue }
                p[j] = score(p[j])
                tileMax = max(tileMax, p[j])
            }
            let newMax = max(m, tileMax)
            if newMax > m {
                let ms = expf(m - newMax)
                var d = 0
                while d < headDim {
                    o.storeBytes(of: o.loadUnaligned(fromByteOffset: 4 * d, as: V.self) * ms, toByteOffset: 4 * d, as: V.self)
                    d += 16
                }
                sum *= ms
            }
            m = newMax
            var tileSum = 0.0
            for g in 0..<(tile / 16) {
                let lanes = UnsafeMutableRawPointer(p + 16 * g)
                var e = ggmlExp16(lanes.loadUnaligned(as: V.self) - V(repeating: m))
                // Masked lanes are exactly 0, as e^(−∞) is.
                for l in 0..<16 where 16 * g + l < lo || 16 * g + l > hi { e[l] = 0 }
                lanes.storeBytes(of: e, as: V.self)
                let eight = e.highHalf + e.lowHalf
                let four = eight.highHalf + eight.lowHalf
                tileSum += Double((four[0] + four[2]) + (four[1] + four[3]))
            }
            sum = Float(Double(sum) + tileSum)
            for j in lo...hi where p[j] != 0 {
                let v = UnsafeRawPointer(values + (start + j) * stride)
                let pj = V(repeating: p[j])
                var d = 0
                while d < headDim {
                    let acc = o.loadUnaligned(fromByteOffset: 4 * d, as: V.self)
                    o.storeBytes(of: acc.addingProduct(pj, v.loadUnaligned(fromByteOffset: 4 * d, as: V.self)),
                                 toByteOffset: 4 * d, as: V.self)
                    d += 16
                }
            }
        }
    }
    let inverse: Float = sum == 0 ? 0 : 1 / sum
    for d in 0..<headDim { out[d] *= inverse }
}

/// One head of `ComputeContext.attentionBatch` with `.q8` activations in a wide micro-batch.
/// packedKeys: all kv heads' keys packed by `packKeysForTiles` ([kvHeads × tiles × headDim × 64]),
/// nil for the plain loop (`.reference`, or a head size that is not a multiple of 16).
/// scores: [pos+1] scratch for `probabilities` ([pos+1], optional, for pictures only).
func attendOneHeadTiled(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, packedKeys: UnsafePointer<Float>?,
                        values: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, head h: Int, heads: Int, kvHeads: Int,
                        headDim: Int, pos: Int, packedPositions: Int, scale: Float, softCap: Float?, window: Int?,
                        scores: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?) {
    let score = AttentionScore(scale: scale, softCap: softCap)
    let kvHead = h / (heads / kvHeads)
    let rowStride = kvHeads * headDim
    let qh = q + h * headDim, oh = out + h * headDim
    let first = firstVisible(pos: pos, window: window)
    let vBase = values + kvHead * headDim
    if let packedKeys {
        let tiles = (packedPositions + tiledAttentionKeys - 1) / tiledAttentionKeys
        flashAttentionTiled(q: qh, packedKeys: packedKeys + kvHead * tiles * headDim * tiledAttentionKeys, values: vBase,
                            stride: rowStride, first: first, last: pos, headDim: headDim, score: score, out: oh)
    } else {
        flashAttentionTiledReference(q: qh, keys: keys + kvHead * headDim, values: vBase, stride: rowStride,
                                     first: first, last: pos, headDim: headDim, score: score, out: oh)
    }
    if let probabilities {
        pictureProbabilities(qh, keys: keys + kvHead * headDim, stride: rowStride, first: first, last: pos, headDim: headDim,
                             score: score, scores: scores, into: probabilities)
    }
}
