import Tensors

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
