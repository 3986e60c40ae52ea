import Foundation

/// Exact-match accuracy on held-out arithmetic problems, for any loaded model:
/// greedy decoding, the first integer of the reply compared with the answer.
///
/// With `shots` > 0 the prompt starts with that many solved problems, one per
/// line ("12+5=17\n…"), so a general model sees the format; lmlab's tiny-math
/// gets the bare prompt it was trained on. The shared start of consecutive
/// prompts stays in the KV cache, so few-shot examples are run once.
public struct ArithmeticEvaluation {
    public struct Item: Codable, Sendable {
        public let prompt: String
        public let answer: String
        public let reply: String
        public let correct: Bool
    }
    public struct Result: Codable, Sendable {
        public let items: [Item]
        public let shots: Int
        public let seconds: Double
        public var correct: Int { items.filter(\.correct).count }
        public var accuracy: Double { items.isEmpty ? 0 : Double(correct) / Double(items.count) }
    }

    public let problems: [ArithmeticTask.Problem]
    public let shots: Int

    public init(count: Int, shots: Int, maxOperand: Int = 1000) {
        let task = ArithmeticTask(maxOperand: maxOperand)
        problems = Array(task.heldOut().prefix(count))
        self.shots = shots
    }

    /// Worked examples for few-shot prompts: fixed, and never from the held-out set.
    public var examples: String {
        var rng = SeededRandom(seed: 7), out = ""
        let task = ArithmeticTask(maxOperand: 1000), heldOut = Set(task.heldOut())
        var made = 0
        while made < shots {
            let p = task.random(&rng)
            if heldOut.contains(p) { continue }
            out += p.prompt + p.answer + "\n"
            made += 1
        }
        return out
    }

    /// The answer a reply gives: its first integer (an optional minus sign and digits),
    /// after leading spaces. "792\n…" → "792"; "The answer is 7" → nil.
    public static func firstInteger(_ reply: String) -> String? {
        var chars = Substring(reply).drop { $0 == " " }
        var out = ""
        if chars.first == "-" { out = "-"; chars = chars.dropFirst() }
        let digits = chars.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : out + digits
    }

    public func run(model: DecoderModel, shouldStop: () -> Bool = { false },
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let start = Date()
        let prefix = examples
        let tokenizer = model.tokenizer
        let stops = tokenizer.endOfTurnIDs.union(tokenizer.eosID.map { [$0] } ?? [])
        var cached: [Int32] = []   // what the KV cache holds
        model.reset()
        var items: [Item] = []
        for (i, p) in problems.enumerated() {
            if shouldStop() { break }
            let prompt = tokenizer.encode(prefix + p.prompt)
            // Keep the part of the cache this prompt shares, run only the rest.
            var shared = zip(cached, prompt).prefix { $0 == $1 }.count
            if shared == prompt.count { shared -= 1 }
            model.rewind(to: shared)
            cached = Array(prompt[..<shared])
            var logits = try model.logitsAfter(Array(prompt[shared...]))
            cached = prompt
            var reply: [Int32] = []
            for _ in 0..<8 {
                let next = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
                if stops.contains(next) { break }
                reply.append(next)
                let text = tokenizer.decode(reply)
                if text.contains("\n") || (ArithmeticEvaluation.firstInteger(text) != nil && text.last.map { !$0.isNumber } == true) { break }
                guard model.position < model.cache.capacity else { break }
                logits = try model.logitsAfter([next])
                cached.append(next)
            }
            let text = tokenizer.decode(reply)
            items.append(Item(prompt: p.prompt, answer: p.answer, reply: text,
                              correct: ArithmeticEvaluation.firstInteger(text) == p.answer))
            progress(i + 1, problems.count)
        }
        model.reset()
        return Result(items: items, shots: shots, seconds: Date().timeIntervalSince(start))
    }
}
