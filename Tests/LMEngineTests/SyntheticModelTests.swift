import Foundation
import LMEngine
import XCTest

/// `synth`: random-weight llama models of a requested size.
final class SyntheticModelTests: XCTestCase {
    func testShapesLandNearTheRequestedSize() {
        for target in [20_000_000, 135_000_000, 350_000_000, 1_000_000_000, 7_000_000_000] {
            let s = SyntheticModel.shape(forParameters: target)
            let ratio = Double(s.parameters) / Double(target)
            XCTAssertEqual(ratio, 1, accuracy: 0.2, "\(target): \(s)")
            XCTAssertLessThanOrEqual(s.layers, 32)
            XCTAssertEqual(s.embedding % s.heads, 0)
            XCTAssertEqual(s.heads % s.kvHeads, 0)
        }
        // Bigger requests never give smaller models.
        let sizes = [50, 100, 200, 400, 800, 1600, 3200].map { SyntheticModel.shape(forParameters: $0 * 1_000_000).parameters }
        XCTAssertEqual(sizes, sizes.sorted())
    }

    func testTheWrittenModelLoadsWithTheShapesParametersAndIsReproducible() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let shape = SyntheticModel.shape(forParameters: 12_000_000)
        let a = dir.appendingPathComponent("a.gguf"), b = dir.appendingPathComponent("b.gguf")
        try SyntheticModel.write(shape, type: .q8_0, to: a, seed: 7)
        try SyntheticModel.write(shape, type: .q8_0, to: b, seed: 7)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b), "same seed, same file")

        let file = try GGUFFile(url: a)
        XCTAssertEqual(file.tensors.reduce(0) { $0 + $1.elementCount }, shape.parameters)
        XCTAssertEqual(file.tensors.reduce(0) { $0 + $1.byteCount }, SyntheticModel.tensorBytes(shape, type: .q8_0))
        let model = try ModelLoader.load(url: a, contextLength: 64)
        XCTAssertEqual(model.config.layers, shape.layers)
        XCTAssertEqual(model.config.vocabulary, shape.vocabulary)
        // It runs: one forward step gives finite logits over the whole vocabulary.
        var finite = 0
        try model.forward(model.tokenizer.encode("hi", addBOS: false, parseSpecial: false), logitsFrom: 1) { _, logits in
            finite = logits.filter(\.isFinite).count
        }
        XCTAssertEqual(finite, shape.vocabulary)
    }
}
