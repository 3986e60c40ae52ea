import Foundation
import LMEngine
import XCTest

/// Replays every input the fuzzer (scripts/fuzz.sh) once crashed on, kept in
/// Fuzz/regressions/, and the seed corpus Fuzz/corpus/, through the same
/// loading as the mutation test: each loads or throws a typed one-line error.
final class FuzzRegressionTests: XCTestCase {
    static let fuzz = TestPaths.packageRoot.appendingPathComponent("Fuzz")

    override func tearDown() {
        try? FileManager.default.removeItem(at: GGUFLoadHarness.url)
        super.tearDown()
    }

    func files(_ folder: String) throws -> [URL] {
        let url = FuzzRegressionTests.fuzz.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") && $0.lastPathComponent != "README.md" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testRegressionInputsLoadOrFailCleanly() throws {
        let inputs = try files("regressions")
        XCTAssertFalse(inputs.isEmpty, "Fuzz/regressions holds the inputs that once crashed the readers")
        for url in inputs {
            do {
                _ = try GGUFLoadHarness.run(Array(try Data(contentsOf: url)))
            } catch {
                XCTAssertTrue(error is GGUFError || error is ModelError || error is TokenizerError,
                              "\(url.lastPathComponent): untyped \(type(of: error)): \(error)")
                let hasControl = "\(error)".unicodeScalars.contains { $0.properties.generalCategory == .control }
                XCTAssertFalse(hasControl || "\(error)".count > 400, "\(url.lastPathComponent): one short line: \(error)")
            }
        }
    }

    /// The committed seeds are the files GGUFSeeds writes today, and they load.
    func testSeedCorpusIsCurrent() throws {
        let committed = try files("corpus")
        let seeds = try GGUFSeeds.all()
        XCTAssertEqual(committed.map(\.lastPathComponent), seeds.map { $0.name + ".fuzz" }.sorted())
        for seed in seeds {
            let url = FuzzRegressionTests.fuzz.appendingPathComponent("corpus/\(seed.name).fuzz")
            XCTAssertEqual(Array(try Data(contentsOf: url)), seed.bytes,
                           "\(seed.name): regenerate with scripts/fuzz.sh --seeds")
            XCTAssertEqual(try GGUFLoadHarness.run(seed.bytes), .loaded)
        }
    }
}
