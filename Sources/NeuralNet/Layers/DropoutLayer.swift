import Tensors

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
