import XCTest
import LMEngine
final class GGMLTypeTests: XCTestCase {
    func testBlockSizesMatchGGML() {
        // (block size, type size) from gguf-py GGML_QUANT_SIZES
        XCTAssertEqual(GGMLType.q4_0.blockBytes, 18)
        XCTAssertEqual(GGMLType.q4_1.blockBytes, 20)
        XCTAssertEqual(GGMLType.q5_0.blockBytes, 22)
        XCTAssertEqual(GGMLType.q5_1.blockBytes, 24)
        XCTAssertEqual(GGMLType.q8_0.blockBytes, 34)
        XCTAssertEqual(GGMLType.q2_K.blockBytes, 84)
        XCTAssertEqual(GGMLType.q3_K.blockBytes, 110)
        XCTAssertEqual(GGMLType.q4_K.blockBytes, 144)
        XCTAssertEqual(GGMLType.q5_K.blockBytes, 176)
        XCTAssertEqual(GGMLType.q6_K.blockBytes, 210)
        XCTAssertEqual(GGMLType.q8_K.blockBytes, 292)
        XCTAssertEqual(GGMLType.q4_0.rowBytes(576), 324)
        XCTAssertNil(GGMLType.q4_K.rowBytes(576))
    }
}
