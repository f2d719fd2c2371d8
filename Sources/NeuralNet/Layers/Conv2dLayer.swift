import Tensors

/// 2-D convolution, stride 1, "same" zero padding, kernel 1×1 or 3×3, on [B, H, W, Ci] → [B, H, W, Co].
/// W: [K, K, Ci, Co] (HWIO), b: [Co]. Init: W ~ N(0, 1/(K²·Ci)) (LeCun normal), b = 0.
/// Parameters: `<name>.weight`, `<name>.bias`.
public final class Conv2d: Module {
    public let name: String
    public let weight: Parameter
    public let bias: Parameter?
    private var savedInput: Tensor?

    public init(inChannels: Int, outChannels: Int, kernelSize: Int = 3, bias: Bool = true, name: String, rng: CounterRNG) {
        precondition(kernelSize == 1 || kernelSize == 3, "\(name): kernel size must be 1 or 3, got \(kernelSize)")
        self.name = name
        let wName = dotted(name, "weight")
        let fanIn = kernelSize * kernelSize * inChannels
        weight = Parameter(name: wName, value: Initializer.normal([kernelSize, kernelSize, inChannels, outChannels],
                                                                  std: 1 / Float(fanIn).squareRoot(), name: wName, rng: rng))
        self.bias = bias ? Parameter(name: dotted(name, "bias"), value: Tensor(shape: [outChannels]), decays: false) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        if save { savedInput = x }
        return conv2dForward(x, weight: weight.value, bias: bias?.value)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = savedInput else { preconditionFailure("\(name): backward without a saved forward") }
        savedInput = nil
        return conv2dBackward(dy, x: x, weight: weight.value, weightGrad: weight.grad, biasGrad: bias?.grad)
    }

    /// The parameter half of `backward` only, for a first layer whose input needs no gradient.
    public func backwardParameters(_ dy: Tensor) {
        guard let x = savedInput else { preconditionFailure("\(name): backward without a saved forward") }
        savedInput = nil
        conv2dWeightGradient(dy, x: x, weightGrad: weight.grad, biasGrad: bias?.grad)
    }
}
