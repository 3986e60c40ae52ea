import Foundation
import LMEngine

/// One rung of the quantization ladder, measured: what `compare quant` prints.
struct QuantRung: Codable {
    var type: String
    var bits_per_weight: Double
    var weight_bytes: Int
    var prefill_tokens_per_s: Double
    var decode_tokens_per_s: Double
    var perplexity: Double
    /// PPL minus the f32 reference's PPL on the same chunks.
    var delta_perplexity: Double
    var mean_kld: Double
    /// Share of positions whose top token matches the f32 reference's, in percent.
    var same_top_percent: Double
    var sample: String
}

/// Measures the loaded model at one weight type after another, each built fresh
/// from the file's weights expanded to f32 (the same reference `kld` uses), and
/// leaves the model on the file's own weights afterwards.
struct QuantLadder {
    let loaded: LoadedModel
    let text: String
    let chunks: Int?
    let promptTokens: Int
    let genTokens: Int
    let samplePrompt: String
    let sampleTokens: Int
    let shouldStop: () -> Bool

    /// `type` nil measures the file's own weights.
    func measure(_ type: GGMLType?) throws -> QuantRung {
        let model = loaded.model
        let reference = try loaded.reference(shouldStop: shouldStop)
        model.use(nil)
        loaded.weightSet = nil
        defer { model.use(nil); loaded.weightSet = nil }
        var set: WeightSet?
        if let type {
            set = type == .f32 ? reference : try WeightSet(model: model, type: type, outputRule: true, shouldStop: shouldStop)
        }
        model.use(set)
        let bench = try Benchmark.run(model: model, promptTokens: promptTokens, genTokens: genTokens, repetitions: 1,
                                      shouldStop: shouldStop)
        let kld = try KLDivergence.measure(model: model, reference: reference, candidate: set, text: text,
                                           context: min(256, model.cache.capacity), maxChunks: chunks, shouldStop: shouldStop)
        let sample = try QuantLadder.greedy(model: model, prompt: samplePrompt, tokens: sampleTokens, shouldStop: shouldStop)
        return QuantRung(type: type?.name ?? "file (\(model.config.fileType ?? "?"))",
                         bits_per_weight: Double(model.weightBytes * 8) / Double(model.weightCount),
                         weight_bytes: model.weightBytes,
                         prefill_tokens_per_s: BenchResult.median(bench.prefill),
                         decode_tokens_per_s: BenchResult.median(bench.decode),
                         perplexity: kld.perplexity, delta_perplexity: kld.perplexity - kld.referencePerplexity,
                         mean_kld: kld.meanKLD, same_top_percent: kld.sameTop * 100, sample: sample.text)
    }

    /// The greedy continuation of `prompt`: its token ids and text.
    static func greedy(model: DecoderModel, prompt: String, tokens: Int,
                       shouldStop: () -> Bool) throws -> (ids: [Int32], pieces: [String], text: String) {
        let ids = model.tokenizer.encode(prompt, addBOS: model.tokenizer.addsBOS, parseSpecial: true)
        var pieces: [String] = []
        let result = try Generator(model: model).generate(
            prompt: ids, maxTokens: tokens, sampler: Sampler(SamplerSettings(temperature: 0)), shouldStop: shouldStop
        ) { _, piece in pieces.append(piece) }
        return (result.ids, pieces, pieces.joined())
    }
}
