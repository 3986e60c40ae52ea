import Foundation
import XCTest
import LMEngine

/// The README's "Adding an architecture" checklist, followed by the suite: `ToyBiasLlama`
/// below is a whole architecture in one file (llama plus a bias on q, k and v, the way
/// qwen2 differs from llama), and `ArchitectureRegistry.register(ToyBiasLlama.self)` is its
/// one registry line. Nothing else in the engine knows about it.
final class ToyBiasLlama: DecoderModel, Architecture {
    static let architectureName = "toy-bias-llama"
    /// A pre-tokenizer name only this family's files use.
    static let preTokenizers: [String: PreTokenizer] = ["toy-digits": .digitsThenGPT2]

    struct Layer {
        let base: LlamaLayerWeights
        let qBias, kBias, vBias: UnsafeMutablePointer<Float>
    }
    private let layers: [Layer]

    init(_ b: ModelBuilder) throws {
        let c = try ModelConfig(gguf: b.gguf)
        layers = try (0..<c.layers).map { l in
            Layer(base: try LlamaLayerWeights(b, layer: l, c),
                  qBias: try b.vector("blk.\(l).attn_q.bias", count: c.queryWidth),
                  kBias: try b.vector("blk.\(l).attn_k.bias", count: c.kvWidth),
                  vBias: try b.vector("blk.\(l).attn_v.bias", count: c.kvWidth))
        }
        try super.init(b, config: c)
    }

    override func block(_ layer: Int, n: Int, pos0: Int) {
        let w = layers[layer], c = config
        projectQKV(w.base, n: n)
        compute.addBias(q, bias: w.qBias, rows: n, width: c.queryWidth)
        compute.addBias(k, bias: w.kBias, rows: n, width: c.kvWidth)
        compute.addBias(v, bias: w.vBias, rows: n, width: c.kvWidth)
        ropeQueriesAndKeys(n: n, pos0: pos0, base: c.ropeBase, style: .adjacentPairs)
        selfAttention(layer: layer, n: n, pos0: pos0, scale: 1 / Float(c.headDim).squareRoot(), window: nil)
        attentionOutput(w.base.wo, n: n)
        feedForwardSubLayer(.siluGated, w.base, n: n)
    }
}

final class ToyArchitectureTests: XCTestCase {
    let d = 32, heads = 4, kvHeads = 2, ffn = 48, vocab = 300, layers = 2

    /// A small llama-shaped model in f32 with random weights; `architecture` names it, and
    /// `biases` (nil: none written) fills attn_q/k/v.bias.
    func writeModel(architecture: String, pre: String, biases: Float?) throws -> URL {
        var w = GGUFWriter()
        let a = architecture
        w.set("general.architecture", .string(a))
        w.set("general.name", .string("toy"))
        w.set("\(a).block_count", .uint32(UInt32(layers)))
        w.set("\(a).embedding_length", .uint32(UInt32(d)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(ffn)))
        w.set("\(a).context_length", .uint32(64))
        w.set("\(a).attention.head_count", .uint32(UInt32(heads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string(pre))
        // Printable ASCII stands for itself in byte-level BPE; the rest pad the table.
        let tokens = (0..<vocab).map { (33...126).contains($0) ? String(UnicodeScalar(UInt8($0))) : "<toy-\($0)>" }
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: tokens)))
        w.set("tokenizer.ggml.merges", .array(GGUFArray(strings: [])))
        // Biases draw from their own generator, so the weights are the same with and without them.
        var weightValues = SeededGenerator(seed: 7), biasValues = SeededGenerator(seed: 8)
        func add(_ name: String, _ dims: [Int], scale: Float = 0.3, offset: Float = 0) throws {
            let isBias = name.hasSuffix(".bias")
            let values = (0..<dims.reduce(1, *)).map { _ in
                offset + scale * ((isBias ? biasValues.nextUnit() : weightValues.nextUnit()) * 2 - 1)
            }
            try w.addTensor(name: name, dims: dims, type: .f32, bytes: values.withUnsafeBytes { Array($0) })
        }
        let hd = d / heads
        try add("token_embd.weight", [d, vocab])
        try add("output_norm.weight", [d], offset: 1)
        for l in 0..<layers {
            let p = "blk.\(l)."
            try add(p + "attn_norm.weight", [d], offset: 1)
            try add(p + "ffn_norm.weight", [d], offset: 1)
            try add(p + "attn_q.weight", [d, heads * hd])
            try add(p + "attn_k.weight", [d, kvHeads * hd])
            try add(p + "attn_v.weight", [d, kvHeads * hd])
            try add(p + "attn_output.weight", [heads * hd, d])
            try add(p + "ffn_gate.weight", [d, ffn])
            try add(p + "ffn_up.weight", [d, ffn])
            try add(p + "ffn_down.weight", [ffn, d])
            if let biases {
                for (name, width) in [("attn_q", heads * hd), ("attn_k", kvHeads * hd), ("attn_v", kvHeads * hd)] {
                    try add(p + name + ".bias", [width], scale: biases)
                }
            }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("toy-\(a)-\(biases ?? -1)-\(UUID()).gguf")
        try w.writeAtomically(to: url)
        return url
    }

    func logits(_ url: URL) throws -> [[Float]] {
        let model = try ModelLoader.load(url: url, threads: 1)
        var out: [[Float]] = []
        try model.forward([5, 80, 17, 260, 3, 99], logitsFrom: 0) { _, l in out.append(Array(l)) }
        return out
    }

    func testAnArchitectureInOneFileAndOneRegistryLine() throws {
        let toy = try writeModel(architecture: ToyBiasLlama.architectureName, pre: "toy-digits", biases: 0)
        let toyWithBiases = try writeModel(architecture: ToyBiasLlama.architectureName, pre: "toy-digits", biases: 0.5)
        let llama = try writeModel(architecture: "llama", pre: "smollm", biases: nil)
        defer { for u in [toy, toyWithBiases, llama] { try? FileManager.default.removeItem(at: u) } }

        // Unknown until registered: one line naming it and the registry's list.
        if ArchitectureRegistry.type(named: ToyBiasLlama.architectureName) == nil {
            XCTAssertThrowsError(try ModelLoader.load(url: toy)) { error in
                XCTAssertEqual("\(error)", "unsupported architecture 'toy-bias-llama' (supported: \(ArchitectureRegistry.names.joined(separator: ", ")))")
                XCTAssertTrue("\(error)".contains("gemma2, gemma3, llama"), "\(error)")
            }
        }
        ArchitectureRegistry.register(ToyBiasLlama.self)
        XCTAssertTrue(ArchitectureRegistry.names.contains("toy-bias-llama"))

        let model = try ModelLoader.load(url: toy)
        XCTAssertTrue(model is ToyBiasLlama)
        // The pre-tokenizer name the toy declares: digits cut one by one, as `smollm` does.
        XCTAssertEqual(model.tokenizer.encode("a123", addBOS: false, parseSpecial: false).count, 4)
        // Its tensors are all registered slots: 7 per layer and the embedding (tied head).
        XCTAssertEqual(model.slots.count, 1 + 7 * layers)

        // Zero biases: exactly llama's arithmetic on the same weights.
        let plain = try logits(llama), zero = try logits(toy), biased = try logits(toyWithBiases)
        XCTAssertEqual(zero.count, 6)
        XCTAssertTrue(zero == plain, "zero biases should give llama's logits bit for bit")
        // Non-zero biases change every position's logits.
        for (b, p) in zip(biased, plain) { XCTAssertTrue(b != p, "biases had no effect") }
    }
}
