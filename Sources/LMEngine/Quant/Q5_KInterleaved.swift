import LMKernelsVNNI
/// Q5_K weights interleaved sixteen rows at a time, for the 512-bit VNNI kernels
/// (LMKernelsVNNI's `Q5_KInterleavedKernels`): made at load on CPUs that run them
/// (`WeightMatrix.interleavedForKernels`). Each 64-byte load holds four bytes of sixteen
/// rows, so one broadcast of four activation codes meets sixteen rows.
///
/// Group g (rows 16g…16g+15), super-block b sits at (g·blocks + b)·2880 bytes:
///
///     offset 0     pieces[8][5][16][4] uint8  piece m at 320·m, row r: row r's qh bytes
///                                             4m…4m+3, then its qs bytes 32c + 4m…+3 for
///                                             c = 0…3 (elements 32s + 4m…+3 of every
///                                             sub-block s)
///     offset 2560  d[16]               fp16
///     offset 2592  dmin[16]            fp16
///     offset 2624  scales[8][16]       uint8  sub-block s, row r (the 6-bit scales unpacked)
///     offset 2752  mins[4][16][2]      uint8  pair k, row r: the mins of sub-blocks 2k, 2k+1
///
/// 180 bytes a row per super-block against the file's 176 (the scales unpacked). A token's
/// kernel walks the pieces in address order.
enum Q5_Kx16: RowInterleaving {
    static let rowsPerGroup = 16
    static var blockBytes: Int { Q5_KInterleavedKernels.blockBytes }
    static var format: any BlockFormat.Type { Q5_KFormat.self }
    // The file's super-block: d, dmin, scales[12], qh[32], qs[128].
    static let scalesOffset = 4, qhOffset = 16, qsOffset = 48

    static func place(_ block: UnsafeRawPointer, row r: Int, into out: UnsafeMutableRawPointer) {
        for m in 0..<8 {
            let piece = out + 320 * m + 4 * r
            piece.storeBytes(of: block.loadUnaligned(fromByteOffset: qhOffset + 4 * m, as: UInt32.self), as: UInt32.self)
            for c in 0..<4 {
                piece.storeBytes(of: block.loadUnaligned(fromByteOffset: qsOffset + 32 * c + 4 * m, as: UInt32.self),
                                 toByteOffset: 64 + 64 * c, as: UInt32.self)
            }
        }
        out.storeBytes(of: block.loadUnaligned(as: UInt16.self), toByteOffset: 2560 + 2 * r, as: UInt16.self)
        out.storeBytes(of: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 2592 + 2 * r, as: UInt16.self)
        KScaleSlots.place(block + scalesOffset, row: r, scales: out + 2624, mins: out + 2752)
    }

    static func unplace(_ group: UnsafeRawPointer, row r: Int, into block: UnsafeMutableRawPointer) {
        for m in 0..<8 {
            let piece = group + 320 * m + 4 * r
            block.storeBytes(of: piece.loadUnaligned(as: UInt32.self), toByteOffset: qhOffset + 4 * m, as: UInt32.self)
            for c in 0..<4 {
                block.storeBytes(of: piece.loadUnaligned(fromByteOffset: 64 + 64 * c, as: UInt32.self),
                                 toByteOffset: qsOffset + 32 * c + 4 * m, as: UInt32.self)
            }
        }
        block.storeBytes(of: group.loadUnaligned(fromByteOffset: 2560 + 2 * r, as: UInt16.self), as: UInt16.self)
        block.storeBytes(of: group.loadUnaligned(fromByteOffset: 2592 + 2 * r, as: UInt16.self), toByteOffset: 2, as: UInt16.self)
        KScaleSlots.unplace(scales: group + 2624, mins: group + 2752, row: r, into: block + scalesOffset)
    }
}

extension MatmulTask {
    /// Rows first..<end (whole groups of sixteen) of y from the interleaved Q5_K copy
    /// (`Q5_Kx16`, `runGroups`): in the tiled order (`tiled`, a matmul of 8 or more rows)
    /// four tokens at a time, else each token in the lane order; sixteen outputs a store.
    /// `sums`: the activations' sub-block sums.
    func runInterleavedQ5_K(_ interleaved: InterleavedRows, first: Int, end: Int, y: UnsafeMutablePointer<Float>,
                            sums: UnsafeRawPointer, tiled: Bool) {
        let a = activations!, ab = activationRowBytes, rows = w.rows, blocks = w.cols / 256, sb = 16 * blocks
        let base = interleaved.base, groupBytes = interleaved.groupBytes
        // Group g for `tokens` tokens from t.
        @inline(__always) func rows16(_ g: Int, _ t: Int, _ tokens: Int) {
            let x = base + g * groupBytes, out = y + t * rows + 16 * g
            if tiled {
                Q5_KInterleavedKernels.dotRows16Tiled(x, a + t * ab, rowBytes: ab, sums: sums + t * sb, sumBytes: sb, tokens: tokens,
                                                      blocks: blocks, out: out, outStride: rows)
            } else {
                for k in 0..<tokens {
                    Q5_KInterleavedKernels.dotRows16(x, a + (t + k) * ab, sums: sums + (t + k) * sb, blocks: blocks, out: out + k * rows)
                }
            }
        }
        runGroups(interleaved, first: first, end: end,
                  tile: { g, t in rows16(g, t, 4) }, single: { g, t in rows16(g, t, 1) })
    }
}
