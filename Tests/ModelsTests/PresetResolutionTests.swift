import Tensors
import XCTest
@testable import Models

final class PresetResolutionTests: XCTestCase {
    /// At its own resolution a preset is unchanged (seeded runs stay byte-identical); at the
    /// others it keeps its token grid and transformer and gains or loses a ResBlock level.
    func testPresetsAreSizedForEachResolution() throws {
        for name in ModelConfig.presetNames {
            let own = try ModelConfig.preset(name)
            XCTAssertEqual(try ModelConfig.preset(name, resolution: own.uvit.resolution), own)
            for r in ModelConfig.resolutions {
                let c = try ModelConfig.preset(name, resolution: r)
                XCTAssertNoThrow(try c.validate(), "\(name) at \(r)")
                XCTAssertEqual(c.uvit.resolution, r)
                XCTAssertEqual(c.uvit.tokenGrid, own.uvit.tokenGrid, "\(name) at \(r)")
                XCTAssertEqual(c.uvit.transformerWidth, own.uvit.transformerWidth)
                XCTAssertEqual(c.uvit.channels.last, own.uvit.channels.last)
            }
        }
        XCTAssertEqual(try ModelConfig.preset("small", resolution: 32).uvit.channels, [32, 64, 128])
        XCTAssertEqual(try ModelConfig.preset("small", resolution: 64).uvit.channels, [16, 32, 64, 128])
        XCTAssertThrowsError(try ModelConfig.preset("small", resolution: 24)) { XCTAssertTrue("\($0)".contains("16, 32, 64")) }
    }
}
