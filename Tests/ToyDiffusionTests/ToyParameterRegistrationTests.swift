import XCTest
import NeuralNet
import Tensors
@testable import ToyDiffusion

/// The toy velocity network registers every parameter (`Module.unregisteredParameters`).
final class ToyParameterRegistrationTests: XCTestCase {
    func testToyNetworkRegistersEveryParameter() {
        XCTAssertEqual(ToyVelocityNet(dimension: 2, rng: CounterRNG(seed: 1)).unregisteredParameters(), [])
    }
}
