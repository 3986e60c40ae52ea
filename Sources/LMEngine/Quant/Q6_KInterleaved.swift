import LMKernelsVNNI
/// Q6_K weights interleaved sixteen rows at a time, for the 512-bit VNNI kernels
/// (LMKernelsVNNI's `Q6_KInterleavedKernels`): made at load on CPUs that run them
/// (`WeightMatrix.interleavedForKernels`). Each 64-byte load holds four bytes of sixteen
/// rows, so one broadcast of four activation codes meets sixteen rows and no lanes are
/// added across.
///
/// Group g (rows 16g…16g+15), super-block b sits at (g·blocks + b)·3360 bytes, the same
/// 16×210 bytes as the rows' own super-blocks:
///
///     offset 0     codes[16][3][16][4] uint8  group (h, m) at 192·(8h + m), row r:
///                                             row r's ql bytes 64h + 4m…+3, then its ql
///                                             bytes 64h + 32 + 4m…+3, then its qh bytes
///                                             32h + 4m…+3 (elements 128h + 32k + 4m…+3)
///     offset 3072  scales[8][16][2]    int8   pair p, row r: row r's scales 2p, 2p+1
///     offset 3328  d[16]               fp16   row r's d in slot r
///
/// A token's kernel walks the codes in address order (group by group), which the
/// hardware prefetcher follows better than three separate runs.
enum Q6_Kx16: RowInterleaving {
    static let rowsPerGroup = 16
    static var blockBytes: Int { Q6_KInterleavedKernels.blockBytes }
    static var format: any BlockFormat.Type { Q6_KFormat.self }

    /// Row r's super-block into its slots.
    static func place(_ block: UnsafeRawPointer, row r: Int, into out: UnsafeMutableRawPointer) {
        for h in 0..<2 {
            for m in 0..<8 {
                let group = out + 192 * (8 * h + m) + 4 * r
                group.storeBytes(of: block.loadUnaligned(fromByteOffset: 64 * h + 4 * m, as: UInt32.self), as: UInt32.self)
                group.storeBytes(of: block.loadUnaligned(fromByteOffset: 64 * h + 32 + 4 * m, as: UInt32.self), toByteOffset: 64, as: UInt32.self)
                group.storeBytes(of: block.loadUnaligned(fromByteOffset: 128 + 32 * h + 4 * m, as: UInt32.self), toByteOffset: 128, as: UInt32.self)
            }
        }
        for p in 0..<8 {
            out.storeBytes(of: block.loadUnaligned(fromByteOffset: 192 + 2 * p, as: UInt16.self), toByteOffset: 3072 + 32 * p + 2 * r, as: UInt16.self)
        }
        out.storeBytes(of: block.loadUnaligned(fromByteOffset: 208, as: UInt16.self), toByteOffset: 3328 + 2 * r, as: UInt16.self)
    }

    static func unplace(_ group: UnsafeRawPointer, row r: Int, into block: UnsafeMutableRawPointer) {
        for h in 0..<2 {
            for m in 0..<8 {
                let slots = group + 192 * (8 * h + m) + 4 * r
                block.storeBytes(of: slots.loadUnaligned(as: UInt32.self), toByteOffset: 64 * h + 4 * m, as: UInt32.self)
                block.storeBytes(of: slots.loadUnaligned(fromByteOffset: 64, as: UInt32.self), toByteOffset: 64 * h + 32 + 4 * m, as: UInt32.self)
                block.storeBytes(of: slots.loadUnaligned(fromByteOffset: 128, as: UInt32.self), toByteOffset: 128 + 32 * h + 4 * m, as: UInt32.self)
            }
        }
        for p in 0..<8 {
            block.storeBytes(of: group.loadUnaligned(fromByteOffset: 3072 + 32 * p + 2 * r, as: UInt16.self), toByteOffset: 192 + 2 * p, as: UInt16.self)
        }
        block.storeBytes(of: group.loadUnaligned(fromByteOffset: 3328 + 2 * r, as: UInt16.self), toByteOffset: 208, as: UInt16.self)
    }
}

extension MatmulTask {
    /// Rows first..<end (whole groups of sixteen) of y from the interleaved Q6_K copy
    /// (`Q6_Kx16`, `runGroups`): in the tiled order (`tiled`, a matmul of 8 or more rows)
    /// four tokens at a time, else each token in the lane order; sixteen outputs a store.
    func runInterleavedQ6_K(_ interleaved: InterleavedRows, first: Int, end: Int, y: UnsafeMutablePointer<Float>, tiled: Bool) {
        let a = activations!, ab = activationRowBytes, rows = w.rows, blocks = w.cols / 256
        let base = interleaved.base, groupBytes = interleaved.groupBytes
        // Group g for `tokens` tokens from t.
        @inline(__always) func rows16(_ g: Int, _ t: Int, _ tokens: Int) {
            let x = base + g * groupBytes, out = y + t * rows + 16 * g
            if tiled {
                Q6_KInterleavedKernels.dotRows16Tiled(x, a + t * ab, rowBytes: ab, tokens: tokens, blocks: blocks, out: out, outStride: rows)
            } else {
                for k in 0..<tokens { Q6_KInterleavedKernels.dotRows16(x, a + (t + k) * ab, blocks: blocks, out: out + k * rows) }
            }
        }
        runGroups(interleaved, first: first, end: end,
                  tile: { g, t in rows16(g, t, 4) }, single: { g, t in rows16(g, t, 1) })
    }
}
