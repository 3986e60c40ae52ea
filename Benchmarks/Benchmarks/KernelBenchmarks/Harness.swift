import Benchmark

// This file imports the harness alone: LMEngine has a `Benchmark` of its own (the
// lab's end-to-end speed runs), so where both modules are imported the harness's class
// is named through this alias.
typealias KernelBenchmark = Benchmark

enum Rate {
    // useScalingFactor false: each value is already a rate over the whole measured loop.
    static let megaflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
    static let megabytes = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)
    static let weightMegabytes = BenchmarkMetric.custom("weight MB/s", polarity: .prefersLarger, useScalingFactor: false)
}

/// What one call of a kernel does, for the rate metrics.
struct Work {
    var flops: Double = 0
    /// Activations, norms and caches read and written once.
    var bytes: Double = 0
    /// Weight bytes streamed (matmul only).
    var weightBytes: Double = 0
}

extension KernelBenchmark {
    /// Runs `call` for the scaled iterations and records the rates of `work` per call
    /// over that loop. A metric with no work of its kind is recorded as nothing.
    func measureLoop(_ work: Work, _ call: () -> Void) {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in scaledIterations { call() }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        guard seconds > 0 else { return }
        let calls = Double(scaledIterations.count)
        if work.flops > 0 { measurement(Rate.megaflops, Int(work.flops * calls / seconds / 1e6)) }
        if work.bytes > 0 { measurement(Rate.megabytes, Int(work.bytes * calls / seconds / 1e6)) }
        if work.weightBytes > 0 { measurement(Rate.weightMegabytes, Int(work.weightBytes * calls / seconds / 1e6)) }
    }
}
