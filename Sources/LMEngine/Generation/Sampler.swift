import Foundation

/// Picks the next token from logits.
///
/// The order is llama.cpp's: repetition penalty → top-k → top-p → min-p →
/// temperature → a draw from the seeded generator. Temperature 0 is greedy
/// (the highest logit; ties go to the lowest id, as llama.cpp's argmax does).
public struct SamplerSettings: Sendable, Equatable {
    public var temperature: Float = 0.8
    public var topK = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repeatPenalty: Float = 1.0
    /// How many recent tokens the penalty looks back over.
    public var repeatLastN = 64
    public var seed: UInt64 = 42

    public init(temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
                repeatPenalty: Float = 1.0, repeatLastN: Int = 64, seed: UInt64 = 42) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.minP = minP
        self.repeatPenalty = repeatPenalty; self.repeatLastN = repeatLastN; self.seed = seed
    }

    public static let greedy = SamplerSettings(temperature: 0)
}

/// A small, fast, seeded random generator (xoshiro256**), the same sequence on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    public init(seed: UInt64) {
        // splitmix64 spreads the seed over the four words
        var z = seed
        func next() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var r = z
            r = (r ^ (r >> 30)) &* 0xBF58_476D_1CE4_E5B9
            r = (r ^ (r >> 27)) &* 0x94D0_49BB_1331_11EB
            return r ^ (r >> 31)
        }
        s = (next(), next(), next(), next())
    }
    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}

public final class Sampler {
    public var settings: SamplerSettings
    private var rng: SeededGenerator
    /// Candidates kept between calls so sampling allocates nothing per token:
    /// (id, logit then probability), [vocabulary].
    private var ids: [Int32] = []
    private var values: [Float] = []
    /// Marks tokens already penalized in this step, [vocabulary]; reset after use.
    private var penalized: [Bool] = []

    public init(_ settings: SamplerSettings) {
        self.settings = settings
        rng = SeededGenerator(seed: settings.seed)
    }

    /// The highest logit's id (lowest id on ties).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue { best = i; bestValue = logits[i] }
        return Int32(best)
    }

    /// Picks a token. `recent` are the tokens the repetition penalty considers.
    public func sample(_ logits: UnsafeBufferPointer<Float>, recent: ArraySlice<Int32> = []) -> Int32 {
        let kept = filter(logits, recent: recent)
        if settings.temperature <= 0 { return ids[0] }   // greedy: no draw
        var r = rng.nextUnit() * kept.total
        for i in 0..<kept.count {
            r -= values[i]
            if r <= 0 { return ids[i] }
        }
        return ids[kept.count - 1]
    }

    /// The distribution `sample` draws from for these logits, after every filter and the
    /// temperature: what speculative decoding calls p (the verifier's) and q (the draft's).
    /// Greedy settings give a point mass on the token `sample` would pick.
    public func distribution(_ logits: UnsafeBufferPointer<Float>, recent: ArraySlice<Int32> = []) -> SparseDistribution {
        let kept = filter(logits, recent: recent)
        return SparseDistribution(ids: Array(ids[0..<kept.count]), probabilities: values[0..<kept.count].map { $0 / kept.total })
    }

    /// A draw from `d` with this sampler's generator.
    public func draw(from d: SparseDistribution) -> Int32 { d.draw(uniform: d.ids.count == 1 ? 0 : rng.nextUnit()) }

    /// A uniform number in [0, 1) from this sampler's generator.
    public func uniform() -> Float { rng.nextUnit() }

    /// Leaves the surviving candidates in ids/values[0..<count] (values unnormalised,
    /// summing to `total`), best first. Greedy leaves one candidate.
    private func filter(_ logits: UnsafeBufferPointer<Float>, recent: ArraySlice<Int32>) -> (count: Int, total: Float) {
        let s = settings
        let n = logits.count
        if ids.count != n {
            ids = [Int32](repeating: 0, count: n); values = [Float](repeating: 0, count: n)
            penalized = [Bool](repeating: false, count: n)
        }
        if s.temperature <= 0 && s.repeatPenalty == 1 {
            ids[0] = Sampler.argmax(logits); values[0] = 1
            return (1, 1)
        }
        // Through buffer pointers: indexing the class's arrays element by element pays an
        // exclusivity check and a uniqueness check per element (7% of a distill run).
        ids.withUnsafeMutableBufferPointer { idp in
            values.withUnsafeMutableBufferPointer { vp in
                for i in 0..<n { idp[i] = Int32(i); vp[i] = logits[i] }
            }
        }
        // Repetition penalty: make recently seen tokens less likely (divide positive
        // logits, multiply negative ones, as llama.cpp does).
        if s.repeatPenalty != 1 {
            let window = recent.suffix(s.repeatLastN)
            for id in window where Int(id) < n && id >= 0 && !penalized[Int(id)] {
                penalized[Int(id)] = true   // once per distinct token
                let v = values[Int(id)]
                values[Int(id)] = v > 0 ? v / s.repeatPenalty : v * s.repeatPenalty
            }
            for id in window where Int(id) < n && id >= 0 { penalized[Int(id)] = false }
        }
        if s.temperature <= 0 {
            var best = 0
            for i in 1..<n where values[i] > values[best] { best = i }
            ids[0] = Int32(best); values[0] = 1
            return (1, 1)
        }
        // Sort candidates by logit, best first: only the top-k matter.
        var count = n
        let k = s.topK > 0 ? min(s.topK, n) : n
        ids.withUnsafeMutableBufferPointer { idp in
            values.withUnsafeMutableBufferPointer { vp in
                Sampler.partialSort(idp, vp, n: n, k: k)
            }
        }
        count = k
        // Softmax over the survivors (at temperature 1 for the p-filters, as llama.cpp's chain).
        Sampler.softmaxInPlace(&values, count: count, temperature: 1)
        if s.topP < 1 {
            var cumulative: Float = 0
            for i in 0..<count {
                cumulative += values[i]
                if cumulative >= s.topP { count = i + 1; break }
            }
        }
        if s.minP > 0 {
            let floor = values[0] * s.minP
            var kept = 1
            while kept < count && values[kept] >= floor { kept += 1 }
            count = kept
        }
        // Temperature reshapes what is left: p^(1/T), renormalised.
        var total: Float = 0
        for i in 0..<count {
            values[i] = exp(log(max(values[i], .leastNonzeroMagnitude)) / s.temperature)
            total += values[i]
        }
        return (count, total)
    }

    /// Moves the k largest values (and their ids) to the front, sorted descending
    /// (ties: lower id first). A min-heap of the best k seen so far makes it
    /// O(n log k) and allocation-free: a full sort of a 262k vocabulary per token
    /// would cost milliseconds.
    static func partialSort(_ ids: UnsafeMutableBufferPointer<Int32>, _ values: UnsafeMutableBufferPointer<Float>, n: Int, k: Int) {
        // "a ranks below b": smaller value, or equal value and larger id.
        func below(_ a: Int, _ b: Int) -> Bool {
            values[a] < values[b] || (values[a] == values[b] && ids[a] > ids[b])
        }
        func swapAt(_ a: Int, _ b: Int) { ids.swapAt(a, b); values.swapAt(a, b) }
        func siftDown(_ start: Int, _ size: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < size && below(l, m) { m = l }
                if r < size && below(r, m) { m = r }
                if m == i { return }
                swapAt(i, m); i = m
            }
        }
        // The first k entries become a min-heap (its root is the worst kept candidate).
        for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(i, k) }
        for i in k..<n where below(0, i) {
            swapAt(0, i)
            siftDown(0, k)
        }
        // Heap-sort the k kept candidates into descending order.
        var size = k
        while size > 1 {
            swapAt(0, size - 1)
            size -= 1
            siftDown(0, size)
        }
    }

    static func softmaxInPlace(_ v: inout [Float], count: Int, temperature: Float) {
        guard count > 0 else { return }
        let m = v[0..<count].max()!
        var sum: Float = 0
        for i in 0..<count { v[i] = exp((v[i] - m) / temperature); sum += v[i] }
        for i in 0..<count { v[i] /= sum }
    }
}

/// A distribution over a few token ids (the candidates a sampler keeps), most likely
/// first; the probabilities sum to 1.
public struct SparseDistribution: Sendable, Equatable {
    public var ids: [Int32]
    public var probabilities: [Float]

    public init(ids: [Int32], probabilities: [Float]) { self.ids = ids; self.probabilities = probabilities }

    /// All the mass on one token (greedy decoding, or a token looked up rather than sampled).
    public static func pointMass(_ id: Int32) -> SparseDistribution { SparseDistribution(ids: [id], probabilities: [1]) }

    /// p(id): 0 for an id outside the candidates.
    public func probability(of id: Int32) -> Float {
        ids.firstIndex(of: id).map { probabilities[$0] } ?? 0
    }

    /// The id where the cumulative probability passes u ∈ [0, 1).
    public func draw(uniform u: Float) -> Int32 {
        var r = u
        for i in ids.indices {
            r -= probabilities[i]
            if r < 0 { return ids[i] }
        }
        return ids[ids.count - 1]   // rounding left r ≥ 0: the last candidate
    }
}
