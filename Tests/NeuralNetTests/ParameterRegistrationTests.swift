import XCTest
import Tensors
@testable import NeuralNet

/// A composite layer lists its parameters by hand; `unregisteredParameters` finds a forgotten
/// entry (which would leave a tensor untrained and unsaved). The project's networks are
/// walked in ModelsTests, EvaluationTests and DiffusionTests.
final class ParameterRegistrationTests: XCTestCase {
    /// A layer that forgets its second linear layer's parameters, and one nested deeper.
    final class Forgetful: Module {
        let a: Linear, b: Linear
        let gain: Parameter
        init() {
            let rng = CounterRNG(seed: 1)
            a = Linear(inFeatures: 2, outFeatures: 2, name: "a", rng: rng)
            b = Linear(inFeatures: 2, outFeatures: 2, name: "b", rng: rng)
            gain = Parameter(name: "gain", value: Tensor(shape: [1]))
        }
        var parameters: [Parameter] { a.parameters + [gain] }
    }

    final class Nested: Module {
        let layers: [Module?]
        init() { layers = [MLP(dim: 2, hidden: 3, name: "m", rng: CounterRNG(seed: 2)), Forgetful(), nil] }
        var parameters: [Parameter] { layers.compactMap { $0 }.flatMap(\.parameters) }
    }

    func testAForgottenParameterIsFound() {
        XCTAssertEqual(Forgetful().unregisteredParameters(), ["b.weight (b.weight)", "b.bias (b.bias)"])
        XCTAssertEqual(Nested().unregisteredParameters(), ["layers[1].b.weight (b.weight)", "layers[1].b.bias (b.bias)"])
    }

    func testEveryLayerRegistersItsParameters() {
        let rng = CounterRNG(seed: 3)
        let layers: [Module] = [
            Linear(inFeatures: 3, outFeatures: 4, name: "l", rng: rng),
            Conv2d(inChannels: 2, outChannels: 3, name: "c", rng: rng),
            MLP(dim: 4, hidden: 8, name: "m", rng: rng),
            MultiHeadAttention(dim: 8, heads: 2, name: "a", rng: rng),
        ]
        for layer in layers { XCTAssertEqual(layer.unregisteredParameters(), [], "\(type(of: layer))") }
    }
}
