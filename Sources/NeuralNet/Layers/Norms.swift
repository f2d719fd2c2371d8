import Tensors

/// Group normalisation over [B, …, C] with `groups` groups of consecutive channels:
/// y = (x − μ_bg)/sqrt(var_bg + ε) · γ + β, optionally followed by SiLU in the same sweep
/// (`silu: true`, for the norm → SiLU pairs of residual blocks). Init: γ = 1, β = 0.
/// Parameters: `<name>.weight` (γ), `<name>.bias` (β).
public final class GroupNorm: Module {
    public let name: String
    public let groups: Int
    public let eps: Float
    public let silu: Bool
    public let weight: Parameter
    public let bias: Parameter
    private var saved: (x: Tensor, stats: NormStatistics)?

    public init(groups: Int, channels: Int, eps: Float = 1e-5, silu: Bool = false, name: String) {
        precondition(groups > 0 && channels % groups == 0, "\(name): \(channels) channels do not split into \(groups) groups")
        self.name = name; self.groups = groups; self.eps = eps; self.silu = silu
        weight = Parameter(name: dotted(name, "weight"), value: Tensor(shape: [channels], repeating: 1), decays: false)
        bias = Parameter(name: dotted(name, "bias"), value: Tensor(shape: [channels]), decays: false)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        let (y, stats) = groupNormForward(x, groups: groups, gamma: weight.value, beta: bias.value, eps: eps, silu: silu)
        if save { saved = (x, stats) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let (x, stats) = saved else { preconditionFailure("\(name): backward without a saved forward") }
        saved = nil
        return groupNormBackward(dy, x: x, stats: stats, groups: groups, gamma: weight.value, beta: bias.value,
                                 gammaGrad: weight.grad, betaGrad: bias.grad, silu: silu)
    }
}

/// Layer normalisation over the last axis: y = (x − μ)/sqrt(var + ε) · γ + β.
/// Init: γ = 1, β = 0. Parameters: `<name>.weight` (γ), `<name>.bias` (β).
public final class LayerNorm: Module {
    public let name: String
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter
    private var saved: (x: Tensor, stats: NormStatistics)?

    public init(features: Int, eps: Float = 1e-5, name: String) {
        self.name = name; self.eps = eps
        weight = Parameter(name: dotted(name, "weight"), value: Tensor(shape: [features], repeating: 1), decays: false)
        bias = Parameter(name: dotted(name, "bias"), value: Tensor(shape: [features]), decays: false)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        let (y, stats) = layerNormForward(x, gamma: weight.value, beta: bias.value, eps: eps)
        if save { saved = (x, stats) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let (x, stats) = saved else { preconditionFailure("\(name): backward without a saved forward") }
        saved = nil
        return layerNormBackward(dy, x: x, stats: stats, gamma: weight.value, gammaGrad: weight.grad, betaGrad: bias.grad)
    }
}
