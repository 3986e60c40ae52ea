import Foundation

/// A recipe (`models/recipes/NAME.json`): everything that makes a model, so anyone
/// can re-run it and get the same weights. Relative paths are relative to the
/// recipe file's folder.
///
///     { "name": "tiny-math",
///       "data": { "kind": "arithmetic", "maxOperand": 1000 },
///       "tokenizer": { "kind": "characters", "characters": "0123456789+-=" },
///       "model": { "embedding": 128, "layers": 4, "heads": 4, "feedForward": 512, "context": 16 },
///       "training": { "steps": 3000, "batch": 64, "learningRate": 0.003, "seed": 1 },
///       "output": "../tiny-math.gguf" }
public struct TrainingRecipe: Codable, Sendable {
    public struct DataSpec: Codable, Sendable {
        /// "arithmetic" (problems generated on the fly) or "text" (a corpus file).
        public var kind: String
        /// arithmetic: operands are in 0..<maxOperand.
        public var maxOperand: Int?
        /// arithmetic: the share of problems whose operands' digit counts are drawn uniformly.
        public var balancedDigits: Double?
        /// arithmetic: the step from which `balancedDigits` applies (a curriculum; default 0).
        public var balancedFromStep: Int?
        /// text: the corpus; documents separated by `<|endoftext|>`.
        public var file: String?
        /// text: the share of the corpus (its end) kept for validation.
        public var validationFraction: Double?
        /// How the file was made, for the model card and the curious (not used).
        public var regenerate: String?
    }
    public struct TokenizerSpec: Codable, Sendable {
        /// "characters" (one token per character listed), "bpe" (learned from the
        /// corpus to `vocabulary` tokens), or "gguf" (read from `file`, e.g. made by train-tokenizer).
        public var kind: String
        public var characters: String?
        public var vocabulary: Int?
        public var file: String?
    }
    public struct ModelSpec: Codable, Sendable {
        public var embedding: Int
        public var layers: Int
        public var heads: Int
        public var feedForward: Int
        public var context: Int
    }
    public struct TrainingSpec: Codable, Sendable {
        public var steps: Int
        /// Sequences per step.
        public var batch: Int
        public var learningRate: Double
        public var minLearningRate: Double?
        public var warmup: Int?
        public var weightDecay: Double?
        public var clip: Double?
        public var seed: UInt64
        /// Validation loss every this many steps.
        public var evalEvery: Int?
        public var threads: Int?
    }

    public var name: String
    public var about: String?
    public var data: DataSpec
    public var tokenizer: TokenizerSpec
    public var model: ModelSpec
    public var training: TrainingSpec
    public var output: String
    /// "f32" (default) or "f16".
    public var exportType: String?
    /// Shown before and after training to see what was learned.
    public var samplePrompts: [String]?

    /// The folder relative paths start from (set by `load`).
    public var folder = URL(fileURLWithPath: ".")

    enum CodingKeys: String, CodingKey {
        case name, about, data, tokenizer, model, training, output, exportType, samplePrompts
    }

    public static func load(_ url: URL) throws -> TrainingRecipe {
        guard let bytes = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.badRecipe("can't read \(url.path)")
        }
        var recipe: TrainingRecipe
        do { recipe = try JSONDecoder().decode(TrainingRecipe.self, from: bytes) } catch let DecodingError.keyNotFound(key, context) {
            throw TrainingError.badRecipe("\(url.lastPathComponent): missing \"\(key.stringValue)\""
                + (context.codingPath.isEmpty ? "" : " in \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""))
        } catch let DecodingError.typeMismatch(_, context) {
            throw TrainingError.badRecipe("\(url.lastPathComponent): \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch {
            throw TrainingError.badRecipe("\(url.lastPathComponent) is not valid JSON")
        }
        recipe.folder = url.deletingLastPathComponent()
        if let problem = recipe.problem { throw TrainingError.badRecipe("\(url.lastPathComponent): \(problem)") }
        return recipe
    }

    public func path(_ relative: String) -> URL {
        relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : folder.appendingPathComponent(relative).standardizedFileURL
    }

    public var outputURL: URL { path(output) }

    public var matrixType: GGMLType { exportType == "f16" ? .f16 : .f32 }

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: training.learningRate, floor: training.minLearningRate ?? training.learningRate / 10,
                             warmup: min(training.warmup ?? 100, training.steps / 5), total: training.steps)
    }

    /// One line naming the first thing wrong, or nil.
    var problem: String? {
        switch data.kind {
        case "arithmetic":
            if let m = data.maxOperand, !(2...100_000).contains(m) { return "data.maxOperand must be in 2...100000" }
        case "text":
            if data.file == nil { return "data.file is needed for text data" }
        default: return "data.kind must be \"arithmetic\" or \"text\", not \"\(data.kind)\""
        }
        switch tokenizer.kind {
        case "characters": if (tokenizer.characters ?? "").isEmpty { return "tokenizer.characters is empty" }
        case "bpe": if (tokenizer.vocabulary ?? 0) < 257 { return "tokenizer.vocabulary must be at least 257 for bpe" }
        case "gguf": if tokenizer.file == nil { return "tokenizer.file is needed for a gguf tokenizer" }
        default: return "tokenizer.kind must be \"characters\", \"bpe\" or \"gguf\", not \"\(tokenizer.kind)\""
        }
        let m = model
        if m.embedding < 2 || m.layers < 1 || m.heads < 1 || m.feedForward < 1 || m.context < 4 { return "model sizes must be positive (context ≥ 4)" }
        if m.embedding % m.heads != 0 || (m.embedding / m.heads) % 2 != 0 {
            return "model.embedding must be heads × an even head size"
        }
        if m.embedding > 4096 || m.layers > 64 || m.feedForward > 16384 || m.context > 4096 { return "model is too large for this trainer" }
        let t = training
        if t.steps < 1 || t.batch < 1 || t.batch > 4096 { return "training.steps and training.batch must be positive" }
        if !(t.learningRate > 0 && t.learningRate < 1) { return "training.learningRate must be in (0, 1)" }
        if let e = exportType, e != "f32", e != "f16" { return "exportType must be \"f32\" or \"f16\"" }
        return nil
    }
}
