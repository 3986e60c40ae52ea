import Foundation

/// Where batches come from. A batch is `batch` sequences of `length` tokens with
/// their targets (the next token, or −1 where no loss is taken), both [batch × length].
public protocol TrainingData {
    /// The batch for one step: a function of the seed and the step only, so a
    /// resumed run sees exactly the batches an uninterrupted one would.
    func batch(step: Int, size: Int, length: Int, seed: UInt64) -> (tokens: [Int32], targets: [Int32])
    /// A fixed validation set, cut into batches.
    func validation(size: Int, length: Int) -> [(tokens: [Int32], targets: [Int32])]
    /// One line about the data for the start of training.
    var summary: String { get }
}

/// Integer addition and subtraction: "734+58=792". The model sees
/// `<bos>734+58=792<eos>` padded with <eos>, and is scored only on the answer and
/// the end token, since the operands are random and can't be predicted.
public struct ArithmeticTask: Sendable {
    public struct Problem: Hashable, Sendable {
        public let a: Int, b: Int
        public let plus: Bool
        public var prompt: String { "\(a)\(plus ? "+" : "-")\(b)=" }
        public var answer: String { String(plus ? a + b : a - b) }
    }

    public let maxOperand: Int
    public init(maxOperand: Int = 1000) { self.maxOperand = maxOperand }

    public func random(_ rng: inout SeededRandom) -> Problem {
        Problem(a: Int(rng.next() % UInt64(maxOperand)), b: Int(rng.next() % UInt64(maxOperand)), plus: rng.next() & 1 == 0)
    }

    /// Like `random`, but each operand's digit count is drawn first, uniformly: uniform
    /// numbers below 1000 are 90% three-digit, and short operands teach digit alignment.
    public func randomBalanced(_ rng: inout SeededRandom) -> Problem {
        let digits = String(maxOperand - 1).count
        func operand() -> Int {
            let length = 1 + Int(rng.next() % UInt64(digits))
            let low = length == 1 ? 0 : Int(pow(10, Double(length - 1))), high = min(maxOperand, Int(pow(10, Double(length))))
            return low + Int(rng.next() % UInt64(high - low))
        }
        let a = operand(), b = operand()
        return Problem(a: a, b: b, plus: rng.next() & 1 == 0)
    }

    /// The held-out problems (distinct, from a fixed seed that no recipe uses);
    /// training never sees them. `eval --task arithmetic` scores on a prefix of these.
    /// At most a tenth of all 2·maxOperand² problems are held out, so small operand
    /// ranges (maxOperand 10 has only 200 problems) still leave problems to train on
    /// and the search for distinct ones ends; for maxOperand ≥ 100 that is all 2,000.
    public func heldOut(count: Int = 2000) -> [Problem] {
        let count = min(count, 2 * maxOperand * maxOperand / 10)
        var rng = SeededRandom(seed: 0x00C0_FFEE_0A41_7E57)
        var seen = Set<Problem>(), out: [Problem] = []
        while out.count < count {
            let p = random(&rng)
            if seen.insert(p).inserted { out.append(p) }
        }
        return out
    }
}

public final class ArithmeticData: TrainingData {
    let task: ArithmeticTask
    let tokenizer: BPETokenizer
    let endOfText: Int32
    let heldOut: Set<ArithmeticTask.Problem>
    /// The share of training problems drawn with balanced digit counts, from step `balancedFrom` on:
    /// short operands are rare in uniform data (10%), and a model that has not yet learned
    /// where the digits are learns it faster from uniform three-digit problems.
    let balancedShare: Double
    let balancedFrom: Int

    public init(task: ArithmeticTask, vocabulary: TrainingVocabulary, balancedShare: Double = 0, balancedFrom: Int = 0) throws {
        self.task = task
        self.balancedShare = balancedShare
        self.balancedFrom = balancedFrom
        tokenizer = try vocabulary.makeTokenizer()
        endOfText = vocabulary.endOfText
        heldOut = Set(task.heldOut())
        let probe = ArithmeticTask.Problem(a: 1234567890 % task.maxOperand, b: 0, plus: false)
        let text = probe.prompt + "-0123456789+"
        guard tokenizer.encode(text, addBOS: false, parseSpecial: false).count == text.count else {
            throw TrainingError.badRecipe("the tokenizer must have one token for each of 0-9, + and - and =")
        }
    }

    public var summary: String {
        "arithmetic: a+b and a−b with a, b < \(task.maxOperand), generated per step"
            + (balancedShare > 0 ? String(format: " (%.0f%% with balanced digit counts", balancedShare * 100)
               + (balancedFrom > 0 ? " from step \(balancedFrom))" : ")") : "")
            + "; \(heldOut.count) problems held out"
    }

    /// tokens: <bos> prompt answer <eos> <eos>…;  targets: −1 until "=", then the answer and <eos>.
    func encode(_ p: ArithmeticTask.Problem, length: Int, tokens: inout [Int32], targets: inout [Int32]) {
        let prompt = tokenizer.encode(p.prompt, addBOS: true, parseSpecial: false)
        let answer = tokenizer.encode(p.answer, addBOS: false, parseSpecial: false) + [endOfText]
        let sequence = Array((prompt + answer).prefix(length))
        for i in 0..<length {
            tokens.append(i < sequence.count ? sequence[i] : endOfText)
            let next = i + 1
            targets.append(next >= prompt.count && next < sequence.count ? sequence[next] : -1)
        }
    }

    public func batch(step: Int, size: Int, length: Int, seed: UInt64) -> (tokens: [Int32], targets: [Int32]) {
        var rng = SeededRandom.forStep(seed: seed, stream: 1, step: step)
        var tokens: [Int32] = [], targets: [Int32] = []
        var made = 0
        let share = step >= balancedFrom ? balancedShare : 0
        while made < size {
            let p = rng.unit() < share ? task.randomBalanced(&rng) : task.random(&rng)
            if heldOut.contains(p) { continue }
            encode(p, length: length, tokens: &tokens, targets: &targets)
            made += 1
        }
        return (tokens, targets)
    }

    public func validation(size: Int, length: Int) -> [(tokens: [Int32], targets: [Int32])] {
        let problems = Array(task.heldOut().prefix(512))
        return stride(from: 0, to: problems.count, by: size).map { start in
            var tokens: [Int32] = [], targets: [Int32] = []
            for p in problems[start..<min(problems.count, start + size)] { encode(p, length: length, tokens: &tokens, targets: &targets) }
            return (tokens, targets)   // the last batch may be shorter
        }
    }
}

/// A text corpus as one token stream: each document starts with <bos> (= <eos>), so
/// the model learns where stories start and end. The last `validationFraction`
/// of the stream is kept for validation; training windows are drawn from the rest.
public final class TextData: TrainingData {
    public let stream: [Int32]
    let split: Int
    let fileName: String

    public init(text: String, fileName: String, vocabulary: TrainingVocabulary, validationFraction: Double) throws {
        let tokenizer = try vocabulary.makeTokenizer()
        var stream: [Int32] = []
        for document in text.components(separatedBy: TrainingVocabulary.endOfTextText) {
            let trimmed = document.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            stream.append(vocabulary.endOfText)
            stream.append(contentsOf: tokenizer.encode(trimmed, addBOS: false, parseSpecial: false))
        }
        stream.append(vocabulary.endOfText)
        self.stream = stream
        self.fileName = fileName
        split = Int(Double(stream.count) * (1 - min(0.5, max(0.01, validationFraction))))
        guard split > 1000 else { throw TrainingError.badData("\(fileName) has only \(stream.count) tokens; training needs more") }
    }

    public var summary: String {
        "text: \(fileName), \(stream.count) tokens (\(split) for training, \(stream.count - split) for validation)"
    }

    func window(at start: Int, length: Int, tokens: inout [Int32], targets: inout [Int32]) {
        tokens.append(contentsOf: stream[start..<(start + length)])
        targets.append(contentsOf: stream[(start + 1)...(start + length)])
    }

    public func batch(step: Int, size: Int, length: Int, seed: UInt64) -> (tokens: [Int32], targets: [Int32]) {
        var rng = SeededRandom.forStep(seed: seed, stream: 2, step: step)
        var tokens: [Int32] = [], targets: [Int32] = []
        for _ in 0..<size {
            window(at: Int(rng.next() % UInt64(split - length - 1)), length: length, tokens: &tokens, targets: &targets)
        }
        return (tokens, targets)
    }

    public func validation(size: Int, length: Int) -> [(tokens: [Int32], targets: [Int32])] {
        // Non-overlapping windows over the held-out tail, at most 8 batches.
        var starts = Array(stride(from: split, to: stream.count - length - 1, by: length))
        starts = Array(starts.prefix(8 * size))
        return stride(from: 0, to: starts.count, by: size).map { i in
            var tokens: [Int32] = [], targets: [Int32] = []
            for s in starts[i..<min(starts.count, i + size)] { window(at: s, length: length, tokens: &tokens, targets: &targets) }
            return (tokens, targets)
        }
    }
}
