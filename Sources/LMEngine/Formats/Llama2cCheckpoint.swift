import Foundation

/// A llama2.c checkpoint (`model.bin`, the legacy version-0 layout `run.c` reads) with its
/// tokenizer (`tokenizer.bin`), turned into the GGUF a llama model loads from.
///
/// Checkpoint, little-endian: seven int32 `dim, hidden_dim, n_layers, n_heads, n_kv_heads,
/// vocab_size, seq_len`, then float32 tensors grouped by kind across layers:
///
///     token_embedding [vocab, dim]
///     rms_att [L, dim]  wq [L, dim, dim]  wk [L, kv_dim, dim]  wv [L, kv_dim, dim]  wo [L, dim, dim]
///     rms_ffn [L, dim]  w1 [L, hidden, dim]  w2 [L, dim, hidden]  w3 [L, hidden, dim]
///     rms_final [dim]   freq_cis_real, freq_cis_imag [seq_len, head_size/2] (unused)
///     wcls [vocab, dim] only when vocab_size is negative (else the embedding is the classifier)
///
/// Matrices are [out, in] row-major, which is GGUF's `[in, out]` as stored, so each copies
/// straight over. llama2.c rotates adjacent pairs (i, i+1) with θ = 10000 — GGUF llama's RoPE —
/// and its RMSNorm ε is 1e-5.
///
/// Tokenizer: int32 max_token_length, then per token float32 score, int32 length, the bytes.
/// Pieces hold real spaces (SentencePiece's ▁ already replaced); `<0xXX>` are byte tokens;
/// ids 0, 1, 2 are unk, BOS and EOS. run.c encodes with BOS, a dummy-prefix space and merges by
/// highest score — SentencePiece as the lab's `llama` tokenizer runs it.
public enum Llama2cCheckpoint {
    public struct Config: Equatable, Sendable {
        public var dim, hiddenDim, layers, heads, kvHeads, vocabulary, sequenceLength: Int
        public var sharedClassifier: Bool
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case badHeader(String)
        case wrongSize(expected: Int, actual: Int)
        case badTokenizer(String)
        case noTokenizer(String)

        public var description: String {
            switch self {
            case .badHeader(let why): return "not a llama2.c checkpoint: \(why)"
            case let .wrongSize(expected, actual):
                return "llama2.c checkpoint has \(actual) bytes but its header needs \(expected) (truncated, or not llama2.c's legacy format)"
            case .badTokenizer(let why): return "llama2.c tokenizer: \(why)"
            case .noTokenizer(let folder):
                return "no llama2.c tokenizer beside the checkpoint (looked for tok<vocab>.bin and tokenizer.bin in \(folder))"
            }
        }
    }

    /// Reads and checks the header against the file size.
    public static func config(of data: Data) throws -> Config {
        guard data.count >= 28 else { throw Failure.badHeader("\(data.count) bytes, shorter than the 28-byte header") }
        let h = (0..<7).map { i in Int(Int32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self) })) }
        let names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"]
        for (i, v) in h.enumerated() where (i == 5 ? abs(v) : v) <= 0 || abs(v) > 1 << 20 {
            throw Failure.badHeader("\(names[i]) is \(v)")
        }
        let c = Config(dim: h[0], hiddenDim: h[1], layers: h[2], heads: h[3], kvHeads: h[4], vocabulary: abs(h[5]),
                       sequenceLength: h[6], sharedClassifier: h[5] > 0)
        guard c.dim % c.heads == 0, c.heads % c.kvHeads == 0, (c.dim / c.heads) % 2 == 0 else {
            throw Failure.badHeader("dim \(c.dim), n_heads \(c.heads), n_kv_heads \(c.kvHeads) don't divide into even heads")
        }
        let expected = 28 + 4 * floatCount(c)
        guard data.count == expected else { throw Failure.wrongSize(expected: expected, actual: data.count) }
        return c
    }

    static func floatCount(_ c: Config) -> Int {
        let headSize = c.dim / c.heads, kvDim = c.kvHeads * headSize
        let perLayer = 2 * c.dim + c.dim * c.dim * 2 + kvDim * c.dim * 2 + 3 * c.hiddenDim * c.dim
        return c.vocabulary * c.dim + c.layers * perLayer + c.dim + c.sequenceLength * headSize
            + (c.sharedClassifier ? 0 : c.vocabulary * c.dim)
    }

    /// The tokenizer beside `checkpoint`: `tok<vocab>.bin` (as llama2.c names its small
    /// vocabularies), else `tokenizer.bin`.
    public static func tokenizerURL(beside checkpoint: URL, vocabulary: Int) throws -> URL {
        let folder = checkpoint.deletingLastPathComponent()
        for name in ["tok\(vocabulary).bin", "tokenizer.bin"] {
            let url = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw Failure.noTokenizer(folder.path)
    }

    /// The GGUF (architecture llama, SentencePiece tokenizer, f32 tensors) for a checkpoint.
    public static func gguf(checkpoint: URL, tokenizer: URL? = nil) throws -> GGUFWriter {
        let data = try Data(contentsOf: checkpoint, options: .alwaysMapped)
        let c = try config(of: data)
        let tokenizerData = try Data(contentsOf: tokenizer ?? tokenizerURL(beside: checkpoint, vocabulary: c.vocabulary))
        let (pieces, scores) = try readTokenizer(tokenizerData, vocabulary: c.vocabulary)

        var w = GGUFWriter()
        let name = checkpoint.deletingPathExtension().lastPathComponent
        w.set("general.architecture", .string("llama"))
        w.set("general.name", .string(name))
        w.set("general.description", .string("converted by lmlab from the llama2.c checkpoint \(checkpoint.lastPathComponent)"))
        w.set("general.file_type", .uint32(0))  // all F32
        w.set("llama.context_length", .uint32(UInt32(c.sequenceLength)))
        w.set("llama.embedding_length", .uint32(UInt32(c.dim)))
        w.set("llama.block_count", .uint32(UInt32(c.layers)))
        w.set("llama.feed_forward_length", .uint32(UInt32(c.hiddenDim)))
        w.set("llama.attention.head_count", .uint32(UInt32(c.heads)))
        w.set("llama.attention.head_count_kv", .uint32(UInt32(c.kvHeads)))
        w.set("llama.rope.dimension_count", .uint32(UInt32(c.dim / c.heads)))
        w.set("llama.rope.freq_base", .float32(10_000))
        w.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))

        // SentencePiece in GGUF spells spaces ▁; token types: 2 unknown, 3 control, 6 byte, 1 normal.
        var tokens: [String] = [], types: [Int32] = []
        for (id, bytes) in pieces.enumerated() {
            let text = String(decoding: bytes, as: UTF8.self)
            let isByte = bytes.count == 6 && text.hasPrefix("<0x") && text.hasSuffix(">")
                && UInt8(text.dropFirst(3).prefix(2), radix: 16) != nil
            switch id {
            case 0: tokens.append("<unk>"); types.append(2)
            case 1: tokens.append("<s>"); types.append(3)
            case 2: tokens.append("</s>"); types.append(3)
            default:
                tokens.append(isByte ? text : text.replacingOccurrences(of: " ", with: "\u{2581}"))
                types.append(isByte ? 6 : 1)
            }
        }
        w.set("tokenizer.ggml.model", .string("llama"))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
        w.set("tokenizer.ggml.scores", .array(GGUFArray(floats: scores)))
        w.set("tokenizer.ggml.token_type", .array(GGUFArray(int32s: types)))
        w.set("tokenizer.ggml.unknown_token_id", .uint32(0))
        w.set("tokenizer.ggml.bos_token_id", .uint32(1))
        w.set("tokenizer.ggml.eos_token_id", .uint32(2))
        w.set("tokenizer.ggml.add_bos_token", .bool(true))
        w.set("tokenizer.ggml.add_space_prefix", .bool(true))

        // Tensors, walking the float section in the checkpoint's order.
        let headSize = c.dim / c.heads, kvDim = c.kvHeads * headSize
        var offset = 28
        func take(_ count: Int) -> [UInt8] {
            defer { offset += 4 * count }
            return Array(data[offset..<(offset + 4 * count)])
        }
        func add(_ name: String, _ dims: [Int], _ bytes: [UInt8]) throws {
            try w.addTensor(name: name, dims: dims, type: .f32, bytes: bytes)
        }
        let embedding = take(c.vocabulary * c.dim)
        try add("token_embd.weight", [c.dim, c.vocabulary], embedding)
        // Per-kind blocks of L tensors each, in the file's order: (GGUF name, rows, cols).
        let kinds: [(String, Int, Int)] = [
            ("attn_norm", 1, c.dim), ("attn_q", c.dim, c.dim), ("attn_k", kvDim, c.dim), ("attn_v", kvDim, c.dim),
            ("attn_output", c.dim, c.dim), ("ffn_norm", 1, c.dim), ("ffn_gate", c.hiddenDim, c.dim),
            ("ffn_down", c.dim, c.hiddenDim), ("ffn_up", c.hiddenDim, c.dim),
        ]
        var layerTensors = [[(String, [Int], [UInt8])]](repeating: [], count: c.layers)
        for (kind, rows, cols) in kinds {
            for l in 0..<c.layers {
                layerTensors[l].append(("blk.\(l).\(kind).weight", rows == 1 ? [cols] : [cols, rows], take(rows * cols)))
            }
        }
        // GGUF files list tensors layer by layer; the loader finds them by name either way.
        for l in 0..<c.layers { for (n, dims, bytes) in layerTensors[l] { try add(n, dims, bytes) } }
        try add("output_norm.weight", [c.dim], take(c.dim))
        offset += 4 * c.sequenceLength * headSize  // freq_cis_real, freq_cis_imag: RoPE is computed instead
        if !c.sharedClassifier { try add("output.weight", [c.dim, c.vocabulary], take(c.vocabulary * c.dim)) }
        return w
    }

    /// Pieces (raw bytes) and scores for `vocabulary` tokens.
    static func readTokenizer(_ data: Data, vocabulary: Int) throws -> ([[UInt8]], [Float]) {
        var at = 0
        func int32() throws -> Int {
            guard at + 4 <= data.count else { throw Failure.badTokenizer("ends after \(at) bytes, before token \(min(vocabulary, (at - 4) / 9))") }
            defer { at += 4 }
            return Int(Int32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: Int32.self) }))
        }
        let maxLength = try int32()
        guard (1...1024).contains(maxLength) else { throw Failure.badTokenizer("max_token_length is \(maxLength)") }
        var pieces: [[UInt8]] = [], scores: [Float] = []
        for i in 0..<vocabulary {
            let score = Float(bitPattern: UInt32(truncatingIfNeeded: try int32()))
            let length = try int32()
            guard (0...maxLength).contains(length), at + length <= data.count else {
                throw Failure.badTokenizer("token \(i) has length \(length) (max_token_length \(maxLength), \(data.count - at) bytes left)")
            }
            pieces.append(Array(data[at..<(at + length)]))
            scores.append(score)
            at += length
        }
        return (pieces, scores)
    }

    /// Writes the converted model to a hidden temporary file, maps it and unlinks it: the model
    /// lives in memory (the mapping) with nothing left on disk.
    public static func load(checkpoint: URL, tokenizer: URL? = nil) throws -> GGUFFile {
        let writer = try gguf(checkpoint: checkpoint, tokenizer: tokenizer)
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent(".lmlab-llama2c-\(UUID().uuidString).gguf")
        try writer.write(to: temporary)
        defer { try? FileManager.default.removeItem(at: temporary) }
        return try GGUFFile(url: temporary)
    }
}
