import Foundation

/// Runs a recipe: builds the tokenizer, data and model, takes optimizer steps,
/// measures validation loss, saves and resumes checkpoints, and exports the GGUF.
/// No UI here: the `train` command drives it and draws the progress.
public final class Trainer {
    public let recipe: TrainingRecipe
    public let vocabulary: TrainingVocabulary
    public let data: TrainingData
    public let model: TrainableLlama<Float>
    public var optimizer: AdamW
    /// Steps done so far.
    public private(set) var step = 0
    /// (step, training loss) for every step done; validation losses when measured.
    public private(set) var trainLosses: [Double] = []
    public private(set) var validationLosses: [(step: Int, loss: Double)] = []
    public let tokensPerStep: Int
    private let validationSet: [(tokens: [Int32], targets: [Int32])]

    public var shape: ModelShape { model.shape }
    public var parameterCount: Int { model.layout.total }
    public var isFinished: Bool { step >= recipe.training.steps }

    /// Builds everything from the recipe; `progress` hears about slow set-up (BPE training).
    public init(recipe: TrainingRecipe, progress: (String) -> Void = { _ in }) throws {
        self.recipe = recipe
        // The corpus first: a BPE tokenizer is learned from it.
        var text: String? = nil
        if recipe.data.kind == "text", let file = recipe.data.file {
            let url = recipe.path(file)
            guard let bytes = FileManager.default.contents(atPath: url.path) else {
                throw TrainingError.badData("can't read \(url.path)" + (recipe.data.regenerate.map { " — make it with: \($0)" } ?? ""))
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        switch recipe.tokenizer.kind {
        case "characters":
            vocabulary = .characters(recipe.tokenizer.characters ?? "")
        case "bpe":
            guard let text else { throw TrainingError.badRecipe("a bpe tokenizer is learned from text data") }
            progress("learning a \(recipe.tokenizer.vocabulary ?? 0)-token BPE vocabulary from the corpus…")
            vocabulary = try BPETrainer.train(text: text, size: recipe.tokenizer.vocabulary ?? 512)
        default:
            let url = recipe.path(recipe.tokenizer.file ?? "")
            do { vocabulary = try TrainingVocabulary(gguf: GGUFFile(url: url)) } catch {
                throw TrainingError.badRecipe("can't read the tokenizer \(url.path): \(error)")
            }
        }
        if let text {
            data = try TextData(text: text, fileName: recipe.data.file ?? "", vocabulary: vocabulary,
                                validationFraction: recipe.data.validationFraction ?? 0.05)
        } else {
            data = try ArithmeticData(task: ArithmeticTask(maxOperand: recipe.data.maxOperand ?? 1000), vocabulary: vocabulary,
                                      balancedShare: recipe.data.balancedDigits ?? 0,
                                      balancedFrom: recipe.data.balancedFromStep ?? 0)
        }
        let m = recipe.model
        let shape = ModelShape(vocabulary: vocabulary.count, embedding: m.embedding, layers: m.layers, heads: m.heads,
                               feedForward: m.feedForward, context: m.context)
        model = TrainableLlama<Float>(shape: shape, seed: recipe.training.seed, threads: recipe.training.threads ?? 2)
        optimizer = AdamW(layout: model.layout, weightDecay: recipe.training.weightDecay ?? 0.1)
        tokensPerStep = recipe.training.batch * m.context
        validationSet = data.validation(size: recipe.training.batch, length: m.context)
    }

    /// One optimizer step on the step's batch; returns its loss.
    @discardableResult
    public func trainStep() -> Double {
        let (tokens, targets) = data.batch(step: step, size: recipe.training.batch, length: shape.context, seed: recipe.training.seed)
        model.zeroGradients()
        let loss = model.forward(tokens: tokens, targets: targets, batch: recipe.training.batch, length: shape.context) ?? 0
        model.backward()
        AdamW.clip(&model.gradients, maxNorm: recipe.training.clip ?? 1)
        optimizer.step(&model.parameters, model.gradients, learningRate: recipe.schedule.rate(at: step))
        step += 1
        trainLosses.append(loss)
        return loss
    }

    /// Mean loss over the validation set (recorded at the current step).
    @discardableResult
    public func measureValidation() -> Double {
        var sum = 0.0, count = 0
        for (tokens, targets) in validationSet {
            let batch = tokens.count / shape.context
            let counted = targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
            if let loss = model.forward(tokens: tokens, targets: targets, batch: batch, length: shape.context, keepForBackward: false) {
                sum += loss * Double(counted); count += counted
            }
        }
        let loss = count > 0 ? sum / Double(count) : .nan
        if validationLosses.last?.step != step { validationLosses.append((step, loss)) }
        return loss
    }

    /// Continues `prompt` with the trainer's own forward pass (greedy at temperature 0),
    /// stopping at <eos> or after `maxTokens`.
    public func sample(_ prompt: String, maxTokens: Int, temperature: Double = 0, seed: UInt64 = 1) throws -> String {
        let tokenizer = try vocabulary.makeTokenizer()
        var tokens = tokenizer.encode(prompt, addBOS: true, parseSpecial: false)
        var out: [Int32] = []
        var rng = SeededRandom(seed: seed)
        for _ in 0..<maxTokens {
            let window = Array(tokens.suffix(shape.context))
            let logits = model.logits(window)
            let row = Array(logits[((window.count - 1) * shape.vocabulary)...])
            var next = row.indices.max { row[$0] < row[$1] }!
            if temperature > 0 {
                let top = row.max()!
                let weights = row.map { exp(Double($0 - top) / temperature) }
                var pick = rng.unit() * weights.reduce(0, +)
                for (i, w) in weights.enumerated() { pick -= w; if pick <= 0 { next = i; break } }
            }
            if Int32(next) == vocabulary.endOfText { break }
            tokens.append(Int32(next)); out.append(Int32(next))
        }
        return tokenizer.decode(out)
    }

    public func export(to url: URL? = nil) throws {
        try GGUFExport.write(parameters: model.parameters, shape: shape, vocabulary: vocabulary, name: recipe.name,
                             matrixType: recipe.matrixType,
                             extraMetadata: [("general.description", .string(recipe.about ?? "trained by lmlab")),
                                             ("lmlab.training.steps", .uint32(UInt32(step))),
                                             ("lmlab.training.seed", .uint64(recipe.training.seed))],
                             to: url ?? recipe.outputURL)
    }

    // MARK: checkpoints

    /// What a checkpoint's header holds (the weights and moments follow as raw floats).
    struct CheckpointHeader: Codable {
        var format = 1
        var recipeName: String
        var shape: ModelShape
        var vocabulary: TrainingVocabulary
        var step: Int
        var optimizerSteps: Int
        var seed: UInt64
        var trainLosses: [Double]
        var validationSteps: [Int]
        var validationLosses: [Double]
        var parameterCount: Int
    }

    static let checkpointMagic = Array("LMLABCKPT\n".utf8)

    /// Writes weights, optimizer moments and history (atomically: to a temporary file, then renamed).
    public func saveCheckpoint(to url: URL) throws {
        let header = CheckpointHeader(recipeName: recipe.name, shape: shape, vocabulary: vocabulary, step: step,
                                      optimizerSteps: optimizer.steps, seed: recipe.training.seed, trainLosses: trainLosses,
                                      validationSteps: validationLosses.map(\.step),
                                      validationLosses: validationLosses.map(\.loss), parameterCount: parameterCount)
        // Sorted keys: the same run writes the same checkpoint bytes (a plain encoder's key order varies).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var data = Data(Trainer.checkpointMagic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for array in [model.parameters, optimizer.m, optimizer.v] {
            array.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        try AtomicWrite.write(data, to: url)
    }

    /// Restores a checkpoint saved from this recipe (same shape, vocabulary and seed).
    public func resume(from url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.badCheckpoint("no checkpoint at \(url.path)")
        }
        let magic = Trainer.checkpointMagic
        guard data.count > magic.count + 8, Array(data.prefix(magic.count)) == magic else {
            throw TrainingError.badCheckpoint("\(url.lastPathComponent) is not an lmlab checkpoint")
        }
        let length = data.subdata(in: magic.count..<(magic.count + 8)).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        let start = magic.count + 8
        guard length > 0, start + length <= data.count,
              let header = try? JSONDecoder().decode(CheckpointHeader.self, from: data.subdata(in: start..<(start + length))) else {
            throw TrainingError.badCheckpoint("\(url.lastPathComponent) has a damaged header")
        }
        guard header.shape == shape, header.vocabulary == vocabulary, header.seed == recipe.training.seed else {
            throw TrainingError.badCheckpoint("\(url.lastPathComponent) was made by a different recipe (shape, tokenizer or seed differ)")
        }
        let floats = header.parameterCount
        guard floats == parameterCount, data.count == start + length + 3 * 4 * floats else {
            throw TrainingError.badCheckpoint("\(url.lastPathComponent) is truncated")
        }
        func read(_ k: Int) -> [Float] {
            let from = start + length + k * 4 * floats
            return data.subdata(in: from..<(from + 4 * floats)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        model.parameters = read(0)
        optimizer.m = read(1)
        optimizer.v = read(2)
        optimizer.steps = header.optimizerSteps
        step = header.step
        trainLosses = header.trainLosses
        validationLosses = zip(header.validationSteps, header.validationLosses).map { ($0, $1) }
    }
}
