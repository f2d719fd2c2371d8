import XCTest
import Models
import Tensors
@testable import Evaluation

/// Sample grids (`TextToImageSampling.grid`, in Evaluation because the grid is a Datasets
/// picture); moved from ModelsTests.TextToImageSamplingTests with the grid.
final class SampleGridTests: XCTestCase {
    func trainedLookingModel() throws -> TextToImageModel {
        let model = try TextToImageModel(.tiny, seed: 31)
        for (k, p) in model.parameters.enumerated() {   // perturbParameters(model, seed: 32, std: 0.1), as in ModelsTests
            let rng = CounterRNG(seed: 32)
            for i in 0..<p.value.count { p.value[i] += 0.1 * rng.normal(stream: UInt64(k), index: UInt64(i)) }
        }
        return model
    }

    let testCaptions = [
        "a small red circle in the centre on a black background",
        "a large blue square at the top left on a white background",
        "a small green cross at the bottom right on a grey background",
    ]

    func testGridLayoutAndErrors() throws {
        let model = try trainedLookingModel()
        let grid = try TextToImageSampling.grid(model, prompts: Array(testCaptions.prefix(2)), seed: 0, seeds: 3, sampler: .ddim,
                                                steps: 2, guidance: 1, xvar: nil, scale: 2)
        XCTAssertGreaterThan(grid.width, 3 * 32)
        XCTAssertGreaterThan(grid.height, 2 * 32)
        let flowing = try TextToImageSampling.grid(model, prompts: testCaptions, seed: 0, seeds: 1, sampler: .ddim, steps: 2,
                                                   guidance: 1, xvar: nil, scale: 2, columns: 2)
        XCTAssertLessThan(flowing.width, 3 * 40, "two tiles to a row")
        XCTAssertThrowsError(try TextToImageSampling.grid(model, prompts: testCaptions, seed: 0, seeds: 1, sampler: .ddim, steps: 2,
                                                          guidance: 1, xvar: nil, columns: 0))
        XCTAssertThrowsError(try TextToImageSampling.sample(model, prompts: ["a"], seed: 0, sampler: .addim, steps: 2, guidance: 0, xvar: nil)) {
            XCTAssertTrue("\($0)".contains("xvar"), "\($0)")
        }
        XCTAssertThrowsError(try TextToImageSampling.sample(model, prompts: ["a"], seed: 0, sampler: .ddim, steps: 0, guidance: 0, xvar: nil))
    }
}
