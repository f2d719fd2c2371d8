import Tensors

/// Two-layer perceptron over the last axis: y = fc2(act(fc1(x))), fc1: dim → hidden,
/// fc2: hidden → outDim (default dim). Init as `Linear`.
/// Parameters: `<name>.fc1.*`, `<name>.fc2.*`.
public final class MLP: Module {
    public let fc1: Linear
    public let activation: Activation
    public let fc2: Linear

    public init(dim: Int, hidden: Int, outDim: Int? = nil, activation: ActivationKind = .gelu, name: String, rng: CounterRNG) {
        fc1 = Linear(inFeatures: dim, outFeatures: hidden, name: dotted(name, "fc1"), rng: rng)
        self.activation = Activation(activation, name: dotted(name, activation.rawValue))
        fc2 = Linear(inFeatures: hidden, outFeatures: outDim ?? dim, name: dotted(name, "fc2"), rng: rng)
    }

    public var parameters: [Parameter] { fc1.parameters + fc2.parameters }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        fc2.forward(activation.forward(fc1.forward(x, save: save), save: save), save: save)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        fc1.backward(activation.backward(fc2.backward(dy)))
    }
}
