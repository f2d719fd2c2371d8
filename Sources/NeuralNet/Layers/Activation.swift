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

/// Lookup table: ids → rows of W [count, dim]. Init: W ~ N(0, std²) (default std 0.02).
/// Parameters: `<name>.weight`.
public final class Embedding: Module {
    public let name: String
    public let weight: Parameter
    private var savedIds: [Int]?

    public init(count: Int, dim: Int, std: Float = 0.02, name: String, rng: CounterRNG) {
        self.name = name
        let wName = dotted(name, "weight")
        weight = Parameter(name: wName, value: Initializer.normal([count, dim], std: std, name: wName, rng: rng))
    }

    public var parameters: [Parameter] { [weight] }

    /// ids → [ids.count, dim] (reshape to [B, T, dim] as needed; the view shares storage).
    public func forward(_ ids: [Int], save: Bool) -> Tensor {
        if save { savedIds = ids }
        return embeddingForward(ids, table: weight.value)
    }

    /// Adds dy's rows into the table's gradient (ids have no gradient).
    public func backward(_ dy: Tensor) {
        guard let ids = savedIds else { preconditionFailure("\(name): backward without a saved forward") }
        savedIds = nil
        embeddingBackward(dy, ids: ids, tableGrad: weight.grad)
    }
}

/// Inverted dropout with probability p while `isActive` (set false for evaluation/sampling).
/// The mask of call n draws indices n·2³² + i of the layer's stream, so runs are reproducible;
/// `calls` can be restored when resuming.
public final class Dropout: Module {
    public let p: Float
    public let rng: CounterRNG
    public let stream: UInt64
    public var isActive = true
    public var calls: UInt64 = 0
    private var savedMask: Tensor??

    public init(p: Float, rng: CounterRNG, name: String) {
        precondition(p >= 0 && p < 1, "\(name): dropout probability \(p) outside [0, 1)")
        self.p = p; self.rng = rng; self.stream = Initializer.stream(for: dotted(name, "dropout"))
    }

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        guard isActive && p > 0 else { if save { savedMask = .some(nil) }; return x }
        let (y, mask) = dropoutForward(x, p: p, rng: rng, stream: stream, first: calls << 32)
        calls += 1
        if save { savedMask = .some(mask) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let mask = savedMask else { preconditionFailure("dropout: backward without a saved forward") }
        savedMask = nil
        return mask.map { dropoutBackward(dy, mask: $0) } ?? dy
    }
}
