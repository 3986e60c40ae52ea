import Foundation
import LMEngine

/// Small valid GGUF files the mutation test and the fuzzer's seed corpus start
/// from, written with `GGUFWriter`. Each is a few kilobytes:
///
///   tiny-llama     llama with a byte-level BPE vocabulary ("gpt2"), 2 layers,
///                  tensors in F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1
///   tiny-gemma3    gemma3 with a SentencePiece vocabulary ("llama"), 2 layers,
///                  one global, plus an unused Q4_K tensor
///   metadata-only  every value type, strings with non-ASCII text, arrays of
///                  arrays of arrays, alignment 64, an I8 and an F16 tensor
///
/// Weights are deterministic (a seeded generator), so every mutation is too.
enum GGUFSeeds {
    static func all() throws -> [(name: String, bytes: [UInt8])] {
        [("tiny-llama", try tinyLlama().encoded()),
         ("tiny-gemma3", try tinyGemma3().encoded()),
         ("metadata-only", try metadataOnly().encoded())]
    }

    // Shapes shared by both models: width 32, 2 query heads and 1 key/value
    // head of 16, feed-forward 64, context 64.
    static let d = 32, heads = 2, kvHeads = 1, headDim = 16, ffn = 64, layers = 2, context = 64

    static func tinyLlama() throws -> GGUFWriter {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("general.name", .string("tiny llama — mutation seed"))
        w.set("general.alignment", .uint32(32))
        w.set("general.file_type", .uint32(7))
        modelKeys(&w, "llama")
        w.set("llama.rope.dimension_count", .uint32(UInt32(headDim)))
        // Byte-level BPE: three control tokens, the letters (GPT-2's byte alphabet
        // maps printable ASCII to itself, space to "Ġ"), "ï" as its two bytes
        // "Ã¯", then tokens the merges make.
        let letters = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
        let tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + letters
            + ["Ġ", ",", "!", "Ã", "¯", "he", "ll", "llo", "hello", "Ġw", "or", "Ġwor", "Ã¯"]
        let merges = ["h e", "l l", "ll o", "he llo", "Ġ w", "o r", "Ġw or", "Ã ¯"]
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("smollm"))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
        w.set("tokenizer.ggml.token_type", .array(GGUFArray(int32s: tokens.indices.map { $0 < 3 ? 3 : 1 })))
        w.set("tokenizer.ggml.merges", .array(GGUFArray(strings: merges)))
        w.set("tokenizer.ggml.bos_token_id", .uint32(1))
        w.set("tokenizer.ggml.eos_token_id", .uint32(2))
        w.set("tokenizer.ggml.add_bos_token", .bool(false))
        var tensors = TensorMaker(seed: 11)
        try tensors.add(&w, "token_embd.weight", rows: tokens.count, cols: d, type: .q8_0)
        try tensors.add(&w, "output_norm.weight", rows: 1, cols: d, type: .f32, norm: true)
        let types: [GGMLType] = [.f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0]
        for l in 0..<layers {
            let p = "blk.\(l)."
            try tensors.add(&w, p + "attn_norm.weight", rows: 1, cols: d, type: .f32, norm: true)
            try tensors.add(&w, p + "ffn_norm.weight", rows: 1, cols: d, type: .f32, norm: true)
            try tensors.add(&w, p + "attn_q.weight", rows: heads * headDim, cols: d, type: types[(l + 0) % 7])
            try tensors.add(&w, p + "attn_k.weight", rows: kvHeads * headDim, cols: d, type: types[(l + 1) % 7])
            try tensors.add(&w, p + "attn_v.weight", rows: kvHeads * headDim, cols: d, type: types[(l + 2) % 7])
            try tensors.add(&w, p + "attn_output.weight", rows: d, cols: heads * headDim, type: types[(l + 3) % 7])
            try tensors.add(&w, p + "ffn_gate.weight", rows: ffn, cols: d, type: types[(l + 4) % 7])
            try tensors.add(&w, p + "ffn_up.weight", rows: ffn, cols: d, type: types[(l + 5) % 7])
            try tensors.add(&w, p + "ffn_down.weight", rows: d, cols: ffn, type: types[(l + 6) % 7])
        }
        return w
    }

    static func tinyGemma3() throws -> GGUFWriter {
        var w = GGUFWriter()
        w.set("general.architecture", .string("gemma3"))
        w.set("general.name", .string("tiny gemma3"))
        modelKeys(&w, "gemma3")
        w.set("gemma3.attention.sliding_window", .uint32(4))
        w.set("gemma3.attention.sliding_window_pattern", .uint32(2))
        // SentencePiece: control and unknown tokens, byte tokens, pieces with ▁.
        let bytes = [0x0A, 0x20, 0xC3, 0xAF].map { String(format: "<0x%02X>", $0) }
        let pieces = ["▁", "a", "b", "c", "▁a", "ab", "▁ab", "abc", "▁the", "t", "h", "e", "é", "<start_of_turn>", "<end_of_turn>"]
        let tokens = ["<pad>", "<eos>", "<bos>", "<unk>"] + bytes + pieces
        let types: [Int32] = [3, 3, 3, 2] + bytes.map { _ in 6 } + pieces.map { $0.hasPrefix("<") ? 3 : 1 }
        w.set("tokenizer.ggml.model", .string("llama"))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
        w.set("tokenizer.ggml.scores", .array(GGUFArray(floats: tokens.indices.map { -Float($0) / 4 })))
        w.set("tokenizer.ggml.token_type", .array(GGUFArray(int32s: types)))
        w.set("tokenizer.ggml.bos_token_id", .uint32(2))
        w.set("tokenizer.ggml.eos_token_id", .uint32(1))
        w.set("tokenizer.ggml.unknown_token_id", .uint32(3))
        w.set("tokenizer.ggml.add_bos_token", .bool(true))
        w.set("tokenizer.ggml.add_space_prefix", .bool(false))
        var tensors = TensorMaker(seed: 23)
        try tensors.add(&w, "token_embd.weight", rows: tokens.count, cols: d, type: .q8_0)
        try tensors.add(&w, "output_norm.weight", rows: 1, cols: d, type: .f32, norm: true)
        let types2: [GGMLType] = [.q8_0, .f16, .q4_0, .f32]
        for l in 0..<layers {
            let p = "blk.\(l)."
            for n in ["attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"] {
                try tensors.add(&w, p + n + ".weight", rows: 1, cols: d, type: .f32, norm: true)
            }
            try tensors.add(&w, p + "attn_q_norm.weight", rows: 1, cols: headDim, type: .f32, norm: true)
            try tensors.add(&w, p + "attn_k_norm.weight", rows: 1, cols: headDim, type: .f16, norm: true)
            try tensors.add(&w, p + "attn_q.weight", rows: heads * headDim, cols: d, type: types2[l % 4])
            try tensors.add(&w, p + "attn_k.weight", rows: kvHeads * headDim, cols: d, type: types2[(l + 1) % 4])
            try tensors.add(&w, p + "attn_v.weight", rows: kvHeads * headDim, cols: d, type: types2[(l + 2) % 4])
            try tensors.add(&w, p + "attn_output.weight", rows: d, cols: heads * headDim, type: types2[(l + 3) % 4])
            try tensors.add(&w, p + "ffn_gate.weight", rows: ffn, cols: d, type: .q8_0)
            try tensors.add(&w, p + "ffn_up.weight", rows: ffn, cols: d, type: .q4_1)
            try tensors.add(&w, p + "ffn_down.weight", rows: d, cols: ffn, type: .q8_0)
        }
        try tensors.add(&w, "extra.k_quant", rows: 1, cols: 256, type: .q4_K)
        return w
    }

    static func metadataOnly() throws -> GGUFWriter {
        var w = GGUFWriter()
        w.version = 2
        w.set("general.alignment", .uint64(64))
        w.set("test.u8", .uint8(200)); w.set("test.i8", .int8(-100))
        w.set("test.u16", .uint16(60_000)); w.set("test.i16", .int16(-30_000))
        w.set("test.u32", .uint32(4_000_000_000)); w.set("test.i32", .int32(-2_000_000_000))
        w.set("test.u64", .uint64(1 << 60)); w.set("test.i64", .int64(-(1 << 60)))
        w.set("test.f32", .float32(3.25)); w.set("test.f64", .float64(-1e300))
        w.set("test.bool", .bool(true))
        w.set("test.text", .string("naïve café ✓ 日本"))
        w.set("test.empty", .string(""))
        w.set("test.bools", .array(GGUFArray(elementType: .bool, values: [.bool(true), .bool(false)])))
        w.set("test.floats", .array(GGUFArray(floats: [1, -2.5, .infinity])))
        w.set("test.u64s", .array(GGUFArray(elementType: .uint64, values: [.uint64(0), .uint64(.max)])))
        let inner = GGUFArray(elementType: .uint8, values: [.uint8(1), .uint8(2), .uint8(3)])
        let innerStrings = GGUFArray(strings: ["x", "ÿ", ""])
        let middle = GGUFArray(elementType: .array, values: [.array(inner), .array(innerStrings)])
        w.set("test.nested", .array(GGUFArray(elementType: .array, values: [.array(middle), .array(middle)])))
        w.set("test.empty_array", .array(GGUFArray(elementType: .int16, values: [])))
        var tensors = TensorMaker(seed: 5)
        try tensors.add(&w, "bytes.i8", rows: 3, cols: 5, type: .i8)
        try tensors.add(&w, "half.f16", rows: 2, cols: 7, type: .f16)
        return w
    }

    /// The `<arch>.*` keys both models share.
    private static func modelKeys(_ w: inout GGUFWriter, _ a: String) {
        w.set("\(a).block_count", .uint32(UInt32(layers)))
        w.set("\(a).context_length", .uint32(UInt32(context)))
        w.set("\(a).embedding_length", .uint32(UInt32(d)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(ffn)))
        w.set("\(a).attention.head_count", .uint32(UInt32(heads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("\(a).attention.key_length", .uint32(UInt32(headDim)))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.set("\(a).rope.freq_base", .float32(10_000))
    }
}

/// Deterministic tensors: random floats quantized to the type asked for.
private struct TensorMaker {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    /// `rows` = 1 writes a vector `[cols]`; norm weights sit around 1.
    mutating func add(_ w: inout GGUFWriter, _ name: String, rows: Int, cols: Int, type: GGMLType,
                      norm: Bool = false) throws {
        let values = (0..<(rows * cols)).map { _ in (norm ? 1 : 0) + 0.5 * (rng.nextUnit() * 2 - 1) }
        let rowBytes = type.rowBytes(cols)!
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        switch type {
        case .i8:
            bytes = values.map { UInt8(bitPattern: Int8(($0 * 100).rounded())) }
        default:
            values.withUnsafeBufferPointer { src in
                bytes.withUnsafeMutableBytes { dst in
                    for r in 0..<rows {
                        BlockFormats.quantizeRow(type, src: src.baseAddress! + r * cols,
                                                 dst: dst.baseAddress! + r * rowBytes, count: cols)
                    }
                }
            }
        }
        try w.addTensor(name: name, dims: rows == 1 ? [cols] : [cols, rows], type: type, bytes: bytes)
    }
}
