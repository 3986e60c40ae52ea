import LMKernelsVNNI
import Synchronization
extension ComputeContext {
    /// y[t*rows + r] = Σ_c W[r, c] · x[t*cols + c] for t in 0..<n.
    /// n == 1 is decode (matrix × vector), n > 1 prefill.
    ///
    /// x: [n × cols] f32, y: [n × rows] f32 (token-major, like x).
    /// With `.q8` activations the n rows of x are quantized once into scratch (the way
    /// llama.cpp's x86 build does: `quantizeActivationRow`), then each
    /// weight row is read once and dotted against all n (the row stays in L1 meanwhile).
    /// The rows of W are split into one contiguous chunk per thread. A format with its
    /// own kernel (`MatmulKernel`: the integer block formats' tiled one, Q4_K's) runs it;
    /// the others are dotted row by row with their `dot`.
    public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int) {
        let format = BlockFormats.require(w.type)
        let kernel = format as? any MatmulKernel.Type
        let rows = w.rows, cols = w.cols, rowBytes = w.rowBytes
        switch activations {
        case .q8:
            let activationType = format.activationType
            let activationFormat = BlockFormats.require(activationType)
            let aRowBytes = activationType.rowBytes(cols)!
            let a = bytes(aRowBytes * n)   // [n × aRowBytes]
            if mode == .reference {
                for t in 0..<n {
                    activationFormat.quantizeActivationRowReference(src: x + t * cols, dst: a + t * aRowBytes, count: cols)
                }
                for r in 0..<rows {
                    for t in 0..<n {
                        let wr = w.data + r * rowBytes, at = a + t * aRowBytes
                        y[t * rows + r] = kernel?.dotReference(wr, at, count: cols, token: t, of: n, batchRows: batchRows(n: n), weightRows: rows)
                            ?? format.dotReference(wr, at, count: cols)
                    }
                }
                return
            }
            // A prefill's rows are quantized by all threads (serially, 128 of Gemma's rows
            // took a tenth of its prefill while the other thread waited).
            quantizeTask.set(activationFormat, x: x, n: n, cols: cols, a: a, rowBytes: aRowBytes)
            dispatch(quantizeTask, count: n * cols >= minParallelWork ? n : 1)
            matmulTask.set(format: format, w: w, x: x, activations: UnsafeRawPointer(a), activationRowBytes: aRowBytes,
                           y: y, n: n, expand: false, scratch: nil)
            matmulTask.kernel = kernel
            matmulTask.vnni = vnni
            matmulTask.batchRows = batchRows(n: n)
            matmulTask.prepared = kernel?.prepareActivations(matmulTask, in: self)
            let count = rows * cols * n >= minParallelWork ? rows : 1
            matmulTask.prepareSplit(workers: workerCount(for: count))
            dispatch(matmulTask, count: count)

        case .f32:
            // Each worker expands one weight row at a time into its own cols floats.
            let scratch = floatsPerWorker(cols)
            if mode == .reference {
                for r in 0..<rows {
                    format.dequantizeRow(src: w.data + r * rowBytes, dst: scratch, count: cols)
                    for t in 0..<n { y[t * rows + r] = dotF32Reference(scratch, x + t * cols, count: cols) }
                }
                return
            }
            matmulTask.set(format: format, w: w, x: x, activations: nil, activationRowBytes: 0,
                           y: y, n: n, expand: true, scratch: scratch)
            matmulTask.kernel = nil
            matmulTask.prepareSplit(workers: workerCount(for: rows))
            dispatch(matmulTask, count: rows)
        }
    }
}

extension ComputeContext {
    /// The rows llama.cpp's matmul has for these n tokens (its kernels' orders depend on
    /// it): one under `decodeOrder`, each token then summed as decoding it alone would be.
    func batchRows(n: Int) -> Int { decodeOrder ? 1 : microBatchRows ?? n }
}

/// A block format's own matmul over quantized activations, which `matmul` asks the
/// format for instead of listing formats. The integer block formats (IntBlockDot) take
/// the tiled kernel below; Q4_K gives llama.cpp's repacked orders (Q4_KFormat.swift).
protocol MatmulKernel: BlockFormat {
    /// Once per matmul, before the rows are split among threads: whatever the kernel that
    /// will run for this task (its matrix, its n quantized activation rows) derives from
    /// the activations, in the context's scratch; `matmulRows` finds it in
    /// `task.prepared`. nil: nothing.
    static func prepareActivations(_ task: MatmulTask, in context: ComputeContext) -> UnsafeMutableRawPointer?
    /// y[t*rows + r] for the task's rows first..<end and all its n tokens.
    static func matmulRows(_ task: MatmulTask, first: Int, end: Int, y: UnsafeMutablePointer<Float>)
    /// The plain loop for token t of this matmul's n, when llama.cpp's matmul has
    /// `batchRows` rows (`ComputeContext.batchRows`) and the weight matrix `weightRows`
    /// (llama.cpp repacks some formats only when they are a multiple of 8): what
    /// `matmulRows` computes, bit for bit.
    static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, token t: Int, of n: Int,
                             batchRows: Int, weightRows: Int) -> Float
}

extension MatmulKernel {
    static func prepareActivations(_ task: MatmulTask, in context: ComputeContext) -> UnsafeMutableRawPointer? { nil }
    static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, token t: Int, of n: Int,
                             batchRows: Int, weightRows: Int) -> Float {
        dotReference(w, a, count: count)
    }
}

/// The integer block formats' kernel: `runTiled`, with each group of four activation
/// rows' scales decoded once per matmul.
extension IntBlockDot {
    static func dotReference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, count: Int, token t: Int, of n: Int,
                             batchRows: Int, weightRows: Int) -> Float {
        repacked(weightRows: weightRows) ? repackedDotReference(Self.self, w, a, count: count) : dotReference(w, a, count: count)
    }

    /// Which of the kernels below a matmul runs: decided here once, so that what is
    /// prepared and what is run agree.
    static func path(_ task: MatmulTask) -> IntBlockPath {
        if task.w.interleaved != nil {
            if type == .q4_0 { return .interleaved }
            if task.vnni { return .interleaved16 }   // Q8_0x16; without VNNI the rows as stored
        }
        if repacked(weightRows: task.w.rows) { return .repacked }
        if task.vnni, let format = vnniFormat { return .vnni(format) }
        return .lanes
    }

    /// For the interleaved Q4_0 kernels each token's `TokenBlockScales`; for Q8_0's the
    /// group offsets (`VNNIKernels.writeGroupOffsets`); for the others each
    /// group of four activation rows' scales (and Q8_1's sums) as floats, [n/4 × cols/32 ×
    /// 8] Float (`ActivationScaleLayout`), followed for the VNNI kernels of a signed format
    /// by the group offsets. In the context's second scratch.
    static func prepareActivations(_ task: MatmulTask, in context: ComputeContext) -> UnsafeMutableRawPointer? {
        let a = task.activations!, rowBytes = task.activationRowBytes, cols = task.w.cols, n = task.n
        let path = path(task)
        switch path {
        case .interleaved:
            let scales = context.activationScaleBytes(TokenBlockScales.bytes(n: n, cols: cols))
            TokenBlockScales.write(a, rowBytes: rowBytes, cols: cols, n: n, into: scales)
            return scales
        case .interleaved16:
            let offsets = context.activationScaleBytes(VNNIKernels.groupOffsetBytes(n: n, cols: cols))
            VNNIKernels.writeGroupOffsets(.q8_0, a, rowBytes: rowBytes, cols: cols, n: n, into: offsets)
            return offsets
        default: break
        }
        let layout = ActivationScaleLayout(cols: cols, n: n)
        var offsetsFormat: VNNIFormat?
        if case .vnni(let format) = path, VNNIKernels.needsGroupOffsets(format) { offsetsFormat = format }
        let offsetBytes = offsetsFormat == nil ? 0 : VNNIKernels.groupOffsetBytes(n: n, cols: cols)
        let scales = context.activationScaleBytes(layout.totalBytes + offsetBytes)
        if let offsetsFormat {
            VNNIKernels.writeGroupOffsets(offsetsFormat, a, rowBytes: rowBytes, cols: cols, n: n, into: scales + layout.totalBytes)
        }
        for q in 0..<n / 4 {
            let at = UnsafeRawPointer(a + 4 * q * rowBytes)
            splitActivationScales(BlockPointers4(at, at + rowBytes, at + 2 * rowBytes, at + 3 * rowBytes),
                                  into: scales + layout.scalesOffset(firstToken: 4 * q), count: cols)
        }
        return scales
    }

    static func matmulRows(_ task: MatmulTask, first: Int, end: Int, y: UnsafeMutablePointer<Float>) {
        task.runTiled(Self.self, first: first, end: end, y: y)
    }
}

/// The integer block formats' kernels (`IntBlockDot.path`): the interleaved copy's
/// (`Q4_0x8`; Q8_0's `Q8_0x16` on VNNI CPUs), the VNNI module's, the repacked order's,
/// or the lane order's.
enum IntBlockPath {
    case interleaved, interleaved16, vnni(VNNIFormat), repacked, lanes
}

/// Where `IntBlockDot.prepareActivations` puts things in its buffer, for n activation rows
/// of cols elements: for each group of four rows their scales as floats,
/// [n/4 × cols/32 × 8] Float (32 bytes a block).
struct ActivationScaleLayout {
    let scaleGroupBytes: Int, totalBytes: Int
    init(cols: Int, n: Int) {
        scaleGroupBytes = cols / 32 * 32
        totalBytes = n / 4 * scaleGroupBytes
    }
    /// The group of four rows starting at `firstToken` (a multiple of 4).
    func scalesOffset(firstToken t: Int) -> Int { t / 4 * scaleGroupBytes }
}

/// Quantizes activation rows for a matmul: worker k takes the k-th contiguous chunk of the
/// n rows of x ([n × cols] f32) into a ([n × rowBytes]).
final class ActivationQuantizeTask: PoolTask {
    var format: any BlockFormat.Type = F32Format.self
    var x: UnsafePointer<Float>?          // [n × cols] f32
    var a: UnsafeMutableRawPointer?       // [n × rowBytes], the format's blocks
    var n = 0, cols = 0, rowBytes = 0

    func set(_ format: any BlockFormat.Type, x: UnsafePointer<Float>, n: Int, cols: Int, a: UnsafeMutableRawPointer, rowBytes: Int) {
        self.format = format; self.x = x; self.n = n; self.cols = cols; self.a = a; self.rowBytes = rowBytes
    }

    func run(worker: Int, workers: Int) {
        guard let x, let a else { return }
        for t in n * worker / workers..<n * (worker + 1) / workers {
            format.quantizeActivationRow(src: x + t * cols, dst: a + t * rowBytes, count: cols)
        }
    }
}

/// One matmul call's worth of state for the pool: worker k takes the k-th contiguous
/// chunk of weight rows and computes y for all n tokens of each row.
final class MatmulTask: PoolTask {
    var format: any BlockFormat.Type = F32Format.self
    var w = WeightMatrix(type: .f32, rows: 0, cols: 0, data: UnsafeRawPointer(bitPattern: 1)!)
    var x: UnsafePointer<Float>?                 // [n × cols] f32
    var activations: UnsafeRawPointer?           // [n × activationRowBytes], quantized x
    var activationRowBytes = 0
    var y: UnsafeMutablePointer<Float>?          // [n × rows]
    var n = 1
    var expand = false                           // true: dequantize rows and dot in f32
    var scratch: UnsafeMutablePointer<Float>?    // [workers × cols] when expanding
    var kernel: (any MatmulKernel.Type)?         // the format's own kernel, if it has one
    var vnni = false                             // ComputeContext.vnni
    var batchRows = 1                            // the rows of llama.cpp's matmul (ComputeContext.batchRows)
    var prepared: UnsafeMutableRawPointer?       // what kernel.prepareActivations made (the integer formats: ActivationScaleLayout)

    func set(format: any BlockFormat.Type, w: WeightMatrix, x: UnsafePointer<Float>, activations: UnsafeRawPointer?,
             activationRowBytes: Int, y: UnsafeMutablePointer<Float>, n: Int, expand: Bool, scratch: UnsafeMutablePointer<Float>?) {
        self.format = format; self.w = w; self.x = x; self.activations = activations
        self.activationRowBytes = activationRowBytes; self.y = y; self.n = n; self.expand = expand; self.scratch = scratch
    }

    /// The next row of the shared tail (`run`), claimed by whichever worker gets there first.
    let nextTailRow = Atomic<Int>(0)
    var tailStart = 0, tailChunk = 1

    /// Called before each dispatch: the first three quarters of the rows are split evenly
    /// among the workers, the rest is a tail claimed chunk by chunk. Two vCPUs rarely run a
    /// matmul at the same speed, and with halves fixed the faster one waited for the other
    /// (a tenth of a SmolLM2 decode spun); the tail lets it take more.
    func prepareSplit(workers: Int) {
        let rows = w.rows
        let group = expand ? 1 : (w.interleaved?.rowsPerGroup ?? 1)
        let tail = workers > 1 ? rows / 4 : 0
        tailStart = (rows - tail) / group * group
        tailChunk = max(group, ((rows - tailStart) / (4 * workers) + group - 1) / group * group)
        nextTailRow.store(tailStart, ordering: .relaxed)
    }

    func run(worker: Int, workers: Int) {
        let rows = tailStart
        var first = rows * worker / workers, end = rows * (worker + 1) / workers
        if let group = w.interleaved?.rowsPerGroup, !expand {
            // Whole groups of rows each (the split point is a multiple of the group).
            first -= first % group; end -= end % group
        }
        if first < end { runRows(worker: worker, first: first, end: end) }
        while true {
            let r = nextTailRow.wrappingAdd(tailChunk, ordering: .relaxed).oldValue
            guard r < w.rows else { break }
            runRows(worker: worker, first: r, end: min(w.rows, r + tailChunk))
        }
    }

    /// Rows first..<end of y, for all n tokens.
    func runRows(worker: Int, first: Int, end: Int) {
        let rows = w.rows, cols = w.cols, rowBytes = w.rowBytes
        guard first < end, let x, let y else { return }
        if expand {
            let row = scratch! + worker * cols
            for r in first..<end {
                format.dequantizeRow(src: w.data + r * rowBytes, dst: row, count: cols)
                for t in 0..<n { y[t * rows + r] = dotF32(row, x + t * cols, count: cols) }
            }
        } else if let kernel {
            kernel.matmulRows(self, first: first, end: end, y: y)
        } else {
            let a = activations!
            for r in first..<end {
                let wr = w.data + r * rowBytes
                for t in 0..<n { y[t * rows + r] = format.dot(wr, a + t * activationRowBytes, count: cols) }
            }
        }
    }

    /// Rows first..<end of y for an integer block format (`runTokenTiles`): decode one
    /// dot per row and token; prefill each weight row against four activation rows at
    /// once (`dotTokens4`), the tile's scales decoded once per matmul (`prepareActivations`).
    /// Every output is computed exactly as `F.dot` / `F.dotReference` (llama.cpp's order,
    /// see QuantDot.swift), so tiling changes speed, not results.
    func runTiled<F: IntBlockDot>(_ format: F.Type, first: Int, end: Int, y: UnsafeMutablePointer<Float>) {
        let ab = activationRowBytes, cols = w.cols
        let scales = UnsafeRawPointer(prepared!), layout = ActivationScaleLayout(cols: cols, n: n)
        switch F.path(self) {
        case .interleaved:
            runInterleaved(w.interleaved!, first: first, end: end, y: y, tokenScales: scales)
        case .interleaved16:
            runInterleavedQ8_0(w.interleaved!, first: first, end: end, y: y, offsets: scales)
        case .vnni(let format):
            // The same dots with vpdpbusd (LMKernelsVNNI); a signed format's group offsets
            // follow the scales in `prepared`.
            let offsets: UnsafeRawPointer? = VNNIKernels.needsGroupOffsets(format) ? scales + layout.totalBytes : nil
            let ob = 32 * (cols / 32), halves = HalfTable.floats
            runTokenTiles(first: first, end: end, y: y,
                tile: { wr, at, t in
                    VNNIKernels.dotTokens4(format, wr, scales: scales + layout.scalesOffset(firstToken: t),
                                           (at, at + ab, at + 2 * ab, at + 3 * ab),
                                           offsets: offsets.map { o in let o = o + t * ob; return (o, o + ob, o + 2 * ob, o + 3 * ob) },
                                           count: cols, halves: halves)
                },
                single: { wr, at, t in VNNIKernels.dotRow(format, wr, at, offsets: offsets.map { $0 + t * ob }, count: cols, halves: halves) },
                singleRows: (2, { wr, at, t, out in
                    (out[0], out[1]) = VNNIKernels.dotRowRows2(format, wr, rowBytes: self.w.rowBytes, at, offsets: offsets.map { $0 + t * ob },
                                                               count: cols, halves: halves)
                }),
                tilePair: { wr, at, t in
                    VNNIKernels.dotTokens4Rows2(format, wr, rowBytes: self.w.rowBytes, scales: scales + layout.scalesOffset(firstToken: t),
                                                (at, at + ab, at + 2 * ab, at + 3 * ab),
                                                offsets: offsets.map { o in let o = o + t * ob; return (o, o + ob, o + 2 * ob, o + 3 * ob) },
                                                count: cols, halves: halves)
                })
        case .repacked:
            runTokenTiles(first: first, end: end, y: y,
                tile: { wr, at, t in
                    F.repackedDotTokens4(wr, scales: scales + layout.scalesOffset(firstToken: t),
                                         rows: BlockPointers4(at, at + ab, at + 2 * ab, at + 3 * ab), count: cols)
                },
                single: { wr, at, _ in F.repackedDot(wr, at, count: cols) },
                singleRows: (8, { wr, at, _, out in out.store(F.repackedDotRows8(wr, rowBytes: self.w.rowBytes, at, count: cols)) }),
                tilePair: { wr, at, t in
                    F.repackedDotTokens4Rows2(wr, rowBytes: self.w.rowBytes, scales: scales + layout.scalesOffset(firstToken: t),
                                              rows: BlockPointers4(at, at + ab, at + 2 * ab, at + 3 * ab), count: cols)
                })
        case .lanes:
            runTokenTiles(first: first, end: end, y: y,
                tile: { wr, at, t in
                    F.dotTokens4(wr, scales: scales + layout.scalesOffset(firstToken: t),
                                 rows: BlockPointers4(at, at + ab, at + 2 * ab, at + 3 * ab), count: cols)
                },
                single: { wr, at, _ in F.dotRowLanes(wr, at, count: cols) },
                singleRows: (2, { wr, at, _, out in (out[0], out[1]) = F.dotRowLanesRows2(wr, rowBytes: self.w.rowBytes, at, count: cols) }))
        }
    }
}


extension MatmulTask {
    /// Rows first..<end (whole groups of eight) of y from the interleaved Q4_0 copy
    /// (`Q4_0x8`, `runGroups`): prefill eight rows × four tokens at a time, decode (and the last
    /// n % 4 tokens) eight rows × one; each group's eight outputs are one store.
    /// `tokenScales`: the activations' `TokenBlockScales`.
    func runInterleaved(_ interleaved: InterleavedRows, first: Int, end: Int, y: UnsafeMutablePointer<Float>,
                        tokenScales: UnsafeRawPointer) {
        let a = activations!, ab = activationRowBytes, rows = w.rows, blocks = w.cols / 32
        let base = interleaved.base, groupBytes = interleaved.groupBytes, sb = 8 * blocks
        runGroups(interleaved, first: first, end: end,
            tile: { g, t in
                let out = y + t * rows + 8 * g
                let (s0, s1, s2, s3) = Q4_0x8.dotRows8Tokens4(base + g * groupBytes, a + t * ab, ab: ab,
                                                              tokenScales + t * sb, sb: sb, blocks: blocks)
                out.store(s0); (out + rows).store(s1); (out + 2 * rows).store(s2); (out + 3 * rows).store(s3)
            },
            single: { g, t in
                (y + t * rows + 8 * g).store(Q4_0x8.dotRows8(base + g * groupBytes, a + t * ab, tokenScales + t * sb, blocks: blocks))
            })
    }

    /// Rows first..<end (whole groups of sixteen) of y from the interleaved Q8_0 copy
    /// (`Q8_0x16`, `runGroups`): prefill sixteen rows × two tokens at a time (twice per
    /// tile of four), decode sixteen rows × one. `offsets`: the activations' group offsets.
    func runInterleavedQ8_0(_ interleaved: InterleavedRows, first: Int, end: Int, y: UnsafeMutablePointer<Float>,
                            offsets: UnsafeRawPointer) {
        let a = activations!, ab = activationRowBytes, rows = w.rows, blocks = w.cols / 32
        let base = interleaved.base, groupBytes = interleaved.groupBytes, ob = 32 * blocks, halves = HalfTable.floats
        runGroups(interleaved, first: first, end: end,
            tile: { g, t in
                for t in stride(from: t, to: t + 4, by: 2) {
                    Q8_0InterleavedKernels.dotRows16Tokens2(base + g * groupBytes, a + t * ab, rowBytes: ab, offsets: offsets + t * ob,
                                                            offsetBytes: ob, blocks: blocks, halves: halves,
                                                            out: y + t * rows + 16 * g, outStride: rows)
                }
            },
            single: { g, t in
                Q8_0InterleavedKernels.dotRows16(base + g * groupBytes, a + t * ab, offsets: offsets + t * ob, blocks: blocks,
                                                 halves: halves, out: y + t * rows + 16 * g)
            })
    }

    /// The loop of the interleaved kernels, over the copy's groups of rows (first..<end
    /// whole groups): `tile(group, first of four tokens)` for each four tokens, then
    /// `single(group, token)` for the last n % 4 (all of a decode). Groups go in chunks of
    /// ~128 KiB, as rows do in `runTokenTiles`, so every tile passes over a chunk in L2.
    @inline(__always)
    func runGroups(_ interleaved: InterleavedRows, first: Int, end: Int,
                   tile: (Int, Int) -> Void, single: (Int, Int) -> Void) {
        let rowsPerGroup = interleaved.rowsPerGroup, groupBytes = interleaved.groupBytes
        let lastGroup = end / rowsPerGroup
        let chunkGroups = n < 4 ? lastGroup - first / rowsPerGroup : max(1, (128 << 10) / groupBytes)
        var g0 = first / rowsPerGroup
        while g0 < lastGroup {
            let g1 = min(lastGroup, g0 + chunkGroups)
            var t = 0
            while t + 4 <= n {
                for g in g0..<g1 { tile(g, t) }
                t += 4
            }
            for t in t..<n {
                for g in g0..<g1 { single(g, t) }
            }
            g0 = g1
        }
    }
}

/// The loop of the formats' own kernels (the integer block formats and the K-quants):
/// prefill dots one weight row against four activation rows at once (`tile(row, first of
/// the four activation rows, first token)`), unpacking the row's blocks once for the
/// four; the last n % 4 tokens, and decode, go one at a time (`single(row, activation
/// row, token)`), rows in address order, k rows at a time where the kernel has
/// `singleRows` = (k, dot(first of k rows, activation row, token, the k outputs)); tiles take two
/// rows at a time where it has `tilePair(first of two rows, first activation row, first token)`.
/// Prefill takes rows in chunks of ~128 KiB of weights, so every tile of four tokens
/// passes over a chunk while it sits in L2 (BENCHMARKS.md, kernel notes).
extension MatmulTask {
    @inline(__always)
    func runTokenTiles(first: Int, end: Int, y: UnsafeMutablePointer<Float>,
                       tile: (UnsafeRawPointer, UnsafeRawPointer, Int) -> SIMD4<Float>,
                       single: (UnsafeRawPointer, UnsafeRawPointer, Int) -> Float,
                       singleRows: (count: Int, dot: (UnsafeRawPointer, UnsafeRawPointer, Int, UnsafeMutablePointer<Float>) -> Void)? = nil,
                       tilePair: ((UnsafeRawPointer, UnsafeRawPointer, Int) -> (SIMD4<Float>, SIMD4<Float>))? = nil) {
        let a = activations!, ab = activationRowBytes
        let rows = w.rows, rb = w.rowBytes, data = w.data
        let chunkRows = n < 4 ? end - first : max(1, (128 << 10) / rb)
        var r0 = first
        while r0 < end {
            let r1 = min(end, r0 + chunkRows)
            var t = 0
            while t + 4 <= n {
                @inline(__always) func store(_ s: SIMD4<Float>, _ r: Int) {
                    y[t * rows + r] = s[0]; y[(t + 1) * rows + r] = s[1]
                    y[(t + 2) * rows + r] = s[2]; y[(t + 3) * rows + r] = s[3]
                }
                var r = r0
                if let tilePair {
                    while r + 2 <= r1 {
                        let (s0, s1) = tilePair(data + r * rb, a + t * ab, t)
                        store(s0, r); store(s1, r + 1)
                        r += 2
                    }
                }
                for r in r..<r1 { store(tile(data + r * rb, a + t * ab, t), r) }
                t += 4
            }
            for t in t..<n {
                var r = r0
                if let (k, dot) = singleRows {
                    while r + k <= r1 {
                        dot(data + r * rb, a + t * ab, t, y + t * rows + r)
                        r += k
                    }
                }
                for r in r..<r1 { y[t * rows + r] = single(data + r * rb, a + t * ab, t) }
            }
            r0 = r1
        }
    }
}

extension UnsafeMutablePointer<Float> {
    /// Eight floats from here on (unaligned).
    @inline(__always) func store(_ v: SIMD8<Float>) { UnsafeMutableRawPointer(self).storeBytes(of: v, as: SIMD8<Float>.self) }
}
