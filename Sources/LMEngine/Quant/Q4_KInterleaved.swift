import LMKernelsVNNI
/// Q4_K weights interleaved sixteen rows at a time, for the 512-bit VNNI kernels
/// (LMKernelsVNNI's `Q4_KInterleavedKernels`): made at load on CPUs that run them
/// (`WeightMatrix.interleavedForKernels`). Sixteen Int32 lanes are sixteen rows, so one
/// broadcast of four activation codes meets sixteen rows' codes in one vpdpbusd.
///
/// Group g (rows 16g…16g+15), super-block b sits at (g·blocks + b)·2368 bytes:
///
///     offset 0     d[16]          fp16   row r's d in slot r
///     offset 32    dmin[16]       fp16
///     offset 64    scales[8][16]  uint8  sub-block s, row r (the 6-bit scales unpacked)
///     offset 192   mins[4][16][2] uint8  pair k, row r: the mins of sub-blocks 2k, 2k+1
///     offset 320   qs[4][8][16][4] uint8 chunk c, piece p, row r: bytes 4p…4p+3 of row
///                                        r's chunk c (low nibbles: elements 64c+4p…+3,
///                                        high: 64c+32+4p…+3)
///
/// 148 bytes a row per super-block against the file's 144 (the scales unpacked).
enum Q4_Kx16: RowInterleaving {
    static let rowsPerGroup = 16
    static var blockBytes: Int { Q4_KInterleavedKernels.blockBytes }
    static var format: any BlockFormat.Type { Q4_KFormat.self }

    /// Row r's super-block into its slots: d, dmin, its eight scales and mins unpacked,
    /// and its 32 four-byte pieces of codes.
    static func place(_ block: UnsafeRawPointer, row r: Int, into out: UnsafeMutableRawPointer) {
        out.storeBytes(of: block.loadUnaligned(fromByteOffset: Q4_KFormat.dOffset, as: UInt16.self), toByteOffset: 2 * r, as: UInt16.self)
        out.storeBytes(of: block.loadUnaligned(fromByteOffset: Q4_KFormat.dminOffset, as: UInt16.self), toByteOffset: 32 + 2 * r, as: UInt16.self)
        KScaleSlots.place(block + Q4_KFormat.scalesOffset, row: r, scales: out + 64, mins: out + 192)
        for c in 0..<4 {
            for p in 0..<8 {
                out.storeBytes(of: block.loadUnaligned(fromByteOffset: Q4_KFormat.qsOffset + 32 * c + 4 * p, as: UInt32.self),
                               toByteOffset: 320 + (8 * c + p) * 64 + 4 * r, as: UInt32.self)
            }
        }
    }

    /// The scales and mins packed back into the file's 12 bytes (`packScaleMinK4`).
    static func unplace(_ group: UnsafeRawPointer, row r: Int, into block: UnsafeMutableRawPointer) {
        block.storeBytes(of: group.loadUnaligned(fromByteOffset: 2 * r, as: UInt16.self), toByteOffset: Q4_KFormat.dOffset, as: UInt16.self)
        block.storeBytes(of: group.loadUnaligned(fromByteOffset: 32 + 2 * r, as: UInt16.self), toByteOffset: Q4_KFormat.dminOffset, as: UInt16.self)
        KScaleSlots.unplace(scales: group + 64, mins: group + 192, row: r, into: block + Q4_KFormat.scalesOffset)
        for c in 0..<4 {
            for p in 0..<8 {
                block.storeBytes(of: group.loadUnaligned(fromByteOffset: 320 + (8 * c + p) * 64 + 4 * r, as: UInt32.self),
                                 toByteOffset: Q4_KFormat.qsOffset + 32 * c + 4 * p, as: UInt32.self)
            }
        }
    }
}

/// A K-quant row's 12-byte table of six-bit scales and mins (`scaleMinK4`), unpacked into a
/// sixteen-row group's slots (`Q4_Kx16`, `Q5_Kx16`): sub-block s's scale at
/// scales + 16·s + r, its min at mins + 32·(s/2) + 2·r + s%2 (the mins of sub-blocks 2k,
/// 2k+1 side by side, as the kernels' vpmaddwd takes them).
enum KScaleSlots {
    static func place(_ table: UnsafeRawPointer, row r: Int, scales: UnsafeMutableRawPointer, mins: UnsafeMutableRawPointer) {
        for s in 0..<8 {
            let (scale, minimum) = scaleMinK4(s, table)
            scales.storeBytes(of: UInt8(scale), toByteOffset: 16 * s + r, as: UInt8.self)
            mins.storeBytes(of: UInt8(minimum), toByteOffset: 32 * (s / 2) + 2 * r + s % 2, as: UInt8.self)
        }
    }

    /// The inverse: row r's scales and mins packed back into the file's 12 bytes.
    static func unplace(scales: UnsafeRawPointer, mins: UnsafeRawPointer, row r: Int, into table: UnsafeMutableRawPointer) {
        packScaleMinK4(scale: { s in scales.load(fromByteOffset: 16 * s + r, as: UInt8.self) },
                       min: { s in mins.load(fromByteOffset: 32 * (s / 2) + 2 * r + s % 2, as: UInt8.self) }, table)
    }
}

extension MatmulTask {
    /// What the interleaved Q4_K and Q5_K kernels read besides the activations: each
    /// activation row's eight sub-block sums (`Q4_KInterleavedKernels.writeSubBlockSums`),
    /// 16 bytes a super-block, in the context's second scratch. nil when this matmul does
    /// not run them.
    func interleavedSubBlockSums(in context: ComputeContext) -> UnsafeMutableRawPointer? {
        guard vnni, w.interleaved != nil, let activations else { return nil }
        let sums = context.activationScaleBytes(16 * n * (w.cols / 256))
        Q4_KInterleavedKernels.writeSubBlockSums(activations, rowBytes: activationRowBytes, cols: w.cols, n: n, into: sums)
        return sums
    }
}
