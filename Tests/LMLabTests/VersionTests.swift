import XCTest
import LMLab
final class VersionTests: XCTestCase { func testVersion() { XCTAssertFalse(LMLabInfo.version.isEmpty) } }
