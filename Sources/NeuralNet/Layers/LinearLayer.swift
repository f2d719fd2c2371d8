import Tensors

/// y = x·W + b over the last axis (x: […, In] → […, Out]); W: [In, Out], b: [Out].
/// Init: W ~ N(0, 1/In) (LeCun normal), b = 0.
/// Parameters: `<name>.weight`, `<name>.bias`.
public final class Linear: Module {
    public let name: String
    public let weight: Parameter
    public let bias: Parameter?
    private var savedInput: Tensor?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, name: String, rng: CounterRNG) {
        self.name = name
        let wName = dotted(name, "weight")
        weight = Parameter(name: wName, value: Initializer.normal([inFeatures, outFeatures],
                                                                  std: 1 / Float(inFeatures).squareRoot(), name: wName, rng: rng))
        self.bias = bias ? Parameter(name: dotted(name, "bias"), value: Tensor(shape: [outFeatures]), decays: false) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var inFeatures: Int { weight.value.shape[0] }
    public var outFeatures: Int { weight.value.shape[1] }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        if save { savedInput = x }
        return linearForward(x, weight: weight.value, bias: bias?.value)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = savedInput else { preconditionFailure("\(name): backward without a saved forward") }
        savedInput = nil
        return linearBackward(dy, x: x, weight: weight.value, weightGrad: weight.grad, biasGrad: bias?.grad)
    }

    /// The parameter half of `backward` only, for a first layer whose input needs no gradient.
    public func backwardParameters(_ dy: Tensor) {
        guard let x = savedInput else { preconditionFailure("\(name): backward without a saved forward") }
        savedInput = nil
        linearWeightGradient(dy, x: x, weightGrad: weight.grad, biasGrad: bias?.grad)
    }
}
