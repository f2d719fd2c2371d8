import Tensors

public enum ActivationKind: String, Sendable {
    case silu, gelu
}

/// Pointwise SiLU (x·σ(x)) or GELU (exact erf form). No parameters.
public final class Activation: Module {
    public let kind: ActivationKind
    public let name: String
    private var savedInput: Tensor?

    public init(_ kind: ActivationKind, name: String = "") {
        self.kind = kind; self.name = name.isEmpty ? kind.rawValue : name
    }

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        if save { savedInput = x }
        switch kind {
        case .silu: return siluForward(x)
        case .gelu: return geluForward(x)
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = savedInput else { preconditionFailure("\(name): backward without a saved forward") }
        savedInput = nil
        switch kind {
        case .silu: return siluBackward(dy, x: x)
        case .gelu: return geluBackward(dy, x: x)
        }
    }
}
