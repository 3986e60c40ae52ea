import Foundation

/// Prefill and decode speed the way llama-bench reports them: `promptTokens`
/// tokens in one batch (pp), and `genTokens` tokens one at a time (tg), each
/// repeated after a warm-up, summarised as median and spread.
public struct BenchResult: Sendable, Codable, Equatable {
    public var promptTokens: Int
    public var genTokens: Int
    /// Tokens already in the context when each measurement starts (llama-bench's `@ dN`).
    public var depth: Int = 0
    public var repetitions: Int
    public var threads: Int
    /// Tokens per second, one value per repetition.
    public var prefill: [Double]
    public var decode: [Double]
    /// Bytes of weights the model reads per generated token.
    public var weightBytes: Int
    /// Peak resident memory of the process so far (VmHWM), bytes.
    public var peakResidentBytes: Int

    public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    /// Half the range around the median: the "±" figure.
    public static func spread(_ v: [Double]) -> Double { ((v.max() ?? 0) - (v.min() ?? 0)) / 2 }
}

public enum Benchmark {
    /// With `depth` > 0, the context is first filled with that many tokens (not timed),
    /// so the figures show how attention over a longer context slows each step.
    public static func run(model: DecoderModel, promptTokens: Int = 128, genTokens: Int = 64, repetitions: Int = 3,
                           depth: Int = 0, shouldStop: () -> Bool = { false }) throws -> BenchResult {
        // Like llama-bench, the tokens are arbitrary ids: speed doesn't depend on them.
        let vocab = model.config.vocabulary
        let prompt = (0..<promptTokens).map { Int32(($0 * 7919 + 100) % vocab) }
        let fill = (0..<depth).map { Int32(($0 * 104729 + 7) % vocab) }
        func resetAndFill() throws {
            model.reset()
            if depth > 0 { try model.forward(fill, logitsFrom: depth - 1, shouldStop: shouldStop) { _, _ in } }
            if shouldStop() { throw CancellationError() }
        }
        var prefill: [Double] = [], decode: [Double] = []
        for rep in 0...repetitions {          // rep 0 is the warm-up
            if shouldStop() { throw CancellationError() }
            if promptTokens > 0 {
                try resetAndFill()
                let start = DispatchTime.now().uptimeNanoseconds
                try model.forward(prompt, logitsFrom: promptTokens - 1) { _, _ in }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if rep > 0 { prefill.append(Double(promptTokens) / seconds) }
            }
            if genTokens > 0 {
                try resetAndFill()
                var token: [Int32] = [prompt.first ?? 1]
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<genTokens {
                    if shouldStop() { throw CancellationError() }
                    try model.forward(token, logitsFrom: 0) { _, logits in token[0] = Sampler.argmax(logits) }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if rep > 0 { decode.append(Double(genTokens) / seconds) }
            }
        }
        model.reset()
        return BenchResult(promptTokens: promptTokens, genTokens: genTokens, depth: depth, repetitions: repetitions,
                           threads: model.compute.threads, prefill: prefill, decode: decode,
                           weightBytes: model.weightBytes, peakResidentBytes: peakResidentBytes())
    }

    /// VmHWM from /proc/self/status (0 where unknown).
    public static func peakResidentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            if let kb = line.split(separator: " ").compactMap({ Int($0) }).first { return kb * 1024 }
        }
        return 0
    }
}

/// Read bandwidth of this machine: the ceiling for decode, which streams every
/// weight once per token. Sums a buffer much larger than the caches, split
/// across threads; best of several passes.
public enum MemoryBandwidth {
    public static func measure(megabytes: Int = 256, threads: Int = 2, passes: Int = 5) -> Double {
        let count = megabytes << 18          // floats
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        let context = ComputeContext(threads: threads)
        var best = 0.0
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sums.deallocate() }
        for _ in 0..<passes {
            let start = DispatchTime.now().uptimeNanoseconds
            context.parallelFor(threads) { t in
                let begin = count * t / threads, end = count * (t + 1) / threads
                var acc = SIMD16<Float>()
                var i = begin
                let raw = UnsafeRawPointer(buffer)
                while i + 16 <= end { acc += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self); i += 16 }
                sums[t] = acc.sum()
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(count * 4) / seconds)
        }
        return best
    }
}
