import Foundation

/// Binary logistic regression, P(y = 1 | x) = σ(w·x + b), fitted by full-batch
/// gradient descent on the mean log-loss with a small L2 penalty. Features are
/// standardised with the training set's mean and spread first, so one learning
/// rate suits them all. Deterministic: weights start at zero.
public struct LogisticRegression: Codable, Equatable, Sendable {
    public private(set) var weights: [Double]
    public private(set) var bias: Double
    public private(set) var means: [Double]
    public private(set) var scales: [Double]

    public init(x: [[Double]], y: [Bool], iterations: Int = 400, learningRate: Double = 0.5, l2: Double = 1e-3) {
        let d = x.first?.count ?? 0
        let n = Double(max(1, x.count))
        means = (0..<d).map { j in x.reduce(0) { $0 + $1[j] } / n }
        scales = (0..<d).map { j in
            let m = x.reduce(0) { $0 + $1[j] } / n
            let v = x.reduce(0) { $0 + ($1[j] - m) * ($1[j] - m) } / n
            return v > 1e-12 ? sqrt(v) : 1
        }
        weights = [Double](repeating: 0, count: d)
        bias = 0
        let z = x.map { standardised($0) }
        for _ in 0..<iterations {
            var gw = [Double](repeating: 0, count: d), gb = 0.0
            for (row, label) in zip(z, y) {
                let error = LogisticRegression.sigmoid(dot(row) + bias) - (label ? 1 : 0)
                for j in 0..<d { gw[j] += error * row[j] }
                gb += error
            }
            for j in 0..<d { weights[j] -= learningRate * (gw[j] / n + l2 * weights[j]) }
            bias -= learningRate * gb / n
        }
    }

    public func probability(_ x: [Double]) -> Double { LogisticRegression.sigmoid(dot(standardised(x)) + bias) }

    func standardised(_ x: [Double]) -> [Double] { (0..<x.count).map { (x[$0] - means[$0]) / scales[$0] } }
    func dot(_ z: [Double]) -> Double { zip(weights, z).reduce(0) { $0 + $1.0 * $1.1 } }
    static func sigmoid(_ t: Double) -> Double { 1 / (1 + exp(-t)) }
}

/// The learned router's model for one tier: which cheap features it reads and
/// the regression fitted on them.
///
/// Features: the five confidence scores of the tier's own answer (clamped at
/// −20 so a certain-looking −∞ stays finite), log(1 + prompt characters), the
/// answer's token count, and one indicator per task type seen in training.
public struct LearnedRouterModel: Sendable {
    public let tasks: [String]
    public let regression: LogisticRegression

    public init(training all: [ItemRecord], tier: Int) {
        // Items this tier could not take escalate anyway; the model learns from the answers it gave.
        let training = all.filter { $0.answers[tier].skipped == nil }
        tasks = Array(Set(training.map(\.item.task))).sorted()
        let tasks = self.tasks
        regression = LogisticRegression(x: training.map { LearnedRouterModel.features($0, tier: tier, tasks: tasks) },
                                        y: training.map { $0.correct[tier] })
    }

    public func probabilityCorrect(_ record: ItemRecord, tier: Int) -> Double {
        regression.probability(LearnedRouterModel.features(record, tier: tier, tasks: tasks))
    }

    static func features(_ record: ItemRecord, tier: Int, tasks: [String]) -> [Double] {
        let a = record.answers[tier]
        return ConfidenceScore.allCases.map { max(-20, $0.value(a)) }
            + [log(1 + Double(record.item.prompt.count)), Double(a.outputTokens)]
            + tasks.map { record.item.task == $0 ? 1 : 0 }
    }
}
