import XCTest
import Diffusion
@testable import Models

final class TextToImageSamplingTests: XCTestCase {
    func trainedLookingModel() throws -> TextToImageModel {
        let model = try tinyModel(seed: 31)
        perturbParameters(model, seed: 32, std: 0.1)   // non-zero output, so the samplers have work to do
        return model
    }

    /// A prompt drawn alone (as sample j) gives the same picture as inside a batch of three at
    /// position j, for every sampler and with guidance.
    func testBatchIndependence() throws {
        let model = try trainedLookingModel()
        let table = XvarTable(steps: 8, eta: 0.75, values: (1...8).map { 0.02 * Double($0) })
        for sampler in SamplerName.allCases {
            let batch = try TextToImageSampling.sample(model, prompts: testCaptions, seed: 5, sampler: sampler, steps: 6,
                                                       guidance: 3, xvar: table, studentSteps: 6)
            let alone = try TextToImageSampling.sample(model, prompts: [testCaptions[1]], seed: 5, firstSample: 1, sampler: sampler,
                                                       steps: 6, guidance: 3, xvar: table, studentSteps: 6)
            XCTAssertLessThan(maxAbsDiff(batch.slice(1, 2), alone), 1e-4, sampler.rawValue)
            XCTAssertTrue(batch.isFinite)
            // Batches of one and of two make the same three pictures too.
            let split = try TextToImageSampling.sample(model, prompts: testCaptions, seed: 5, sampler: sampler, steps: 6,
                                                       guidance: 3, xvar: table, studentSteps: 6, batchSize: 2)
            XCTAssertLessThan(maxAbsDiff(batch, split), 1e-4, sampler.rawValue)
        }
    }

    func testSeedsChangeTheNoiseAndGuidanceChangesThePicture() throws {
        let model = try trainedLookingModel()
        let prompts = [testCaptions[0]]
        let a = try TextToImageSampling.sample(model, prompts: prompts, seed: 1, sampler: .ddim, steps: 4, guidance: 0, xvar: nil)
        let b = try TextToImageSampling.sample(model, prompts: prompts, seed: 2, sampler: .ddim, steps: 4, guidance: 0, xvar: nil)
        let c = try TextToImageSampling.sample(model, prompts: prompts, seed: 1, sampler: .ddim, steps: 4, guidance: 3, xvar: nil)
        let again = try TextToImageSampling.sample(model, prompts: prompts, seed: 1, sampler: .ddim, steps: 4, guidance: 0, xvar: nil)
        XCTAssertGreaterThan(maxAbsDiff(a, b), 1e-2)
        XCTAssertGreaterThan(maxAbsDiff(a, c), 1e-3)
        XCTAssertEqual(a.toArray(), again.toArray())
    }

    /// Guidance's doubled batch gives the same v̂ as the two branches run separately.
    func testDoubledBatchGuidanceMatchesSeparateBranches() throws {
        let model = try trainedLookingModel()
        let vm = model.velocityModel(captions: Array(testCaptions.prefix(2)))
        let z = normalTensor([2, 16, 16, 3], seed: 33), t: [Float] = [0.4, 0.4]
        let both = try XCTUnwrap(vm.bothBranches)(z, t)
        XCTAssertLessThan(maxAbsDiff(both.conditional, vm.branch(z, t, true)), 1e-5)
        XCTAssertLessThan(maxAbsDiff(both.unconditional, vm.branch(z, t, false)), 1e-5)
        XCTAssertGreaterThan(maxAbsDiff(both.conditional, both.unconditional), 1e-4, "the null conditioning differs from the text")
    }
}
