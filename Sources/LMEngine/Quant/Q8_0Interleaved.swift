import LMKernelsVNNI
/// Q8_0 weights interleaved sixteen rows at a time, for the 512-bit VNNI kernels
/// (LMKernelsVNNI's `Q8_0InterleavedKernels`): made at load on CPUs that run them
/// (`WeightMatrix.interleavedForKernels`). A decode's Q8_0 rows (SmolLM2's and Gemma's
/// output heads, a third of SmolLM2's bytes and two thirds of Gemma's) then stream as one
/// run of aligned 64-byte loads, each meeting one broadcast of four activation codes in
/// one vpdpbusd, instead of two rows' 34-byte blocks joined into a vector.
///
/// Group g (rows 16g…16g+15), block b sits at (g·blocks + b)·544 bytes, the same 16×34
/// bytes as the rows' own blocks:
///
///     offset 0     qs[8][16][4]  uint8  group k, row r: row r's codes 4k…4k+3, each
///                                       as q + 128 (its top bit flipped)
///     offset 512   d[16]         fp16   row r's scale in slot r
enum Q8_0x16: RowInterleaving {
    static let rowsPerGroup = 16
    static var blockBytes: Int { Q8_0InterleavedKernels.blockBytes }
    static var format: any BlockFormat.Type { Q8_0Format.self }

    /// Row r's block into its slots: its eight 4-byte groups of codes made unsigned, and its scale.
    static func place(_ block: UnsafeRawPointer, row r: Int, into out: UnsafeMutableRawPointer) {
        for k in 0..<8 {
            let codes = block.loadUnaligned(fromByteOffset: Q8_0Format.codesOffset + 4 * k, as: UInt32.self)
            out.storeBytes(of: codes ^ 0x8080_8080, toByteOffset: 64 * k + 4 * r, as: UInt32.self)
        }
        out.storeBytes(of: block.loadUnaligned(fromByteOffset: Q8_0Format.scaleOffset, as: UInt16.self),
                       toByteOffset: 512 + 2 * r, as: UInt16.self)
    }

    static func unplace(_ group: UnsafeRawPointer, row r: Int, into block: UnsafeMutableRawPointer) {
        for k in 0..<8 {
            let codes = group.loadUnaligned(fromByteOffset: 64 * k + 4 * r, as: UInt32.self)
            block.storeBytes(of: codes ^ 0x8080_8080, toByteOffset: Q8_0Format.codesOffset + 4 * k, as: UInt32.self)
        }
        block.storeBytes(of: group.loadUnaligned(fromByteOffset: 512 + 2 * r, as: UInt16.self),
                         toByteOffset: Q8_0Format.scaleOffset, as: UInt16.self)
    }
}
