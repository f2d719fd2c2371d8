import Tensors

/// Exponential moving average of parameters, for sampling and evaluation (docs/algorithms.md §5):
///   shadow ← decay · shadow + (1 − decay) · value      after every optimiser step.
/// The shadow starts as a copy of the parameters.
public final class EMA {
    public let parameters: [Parameter]
    public var decay: Float
    /// Shadow values, aligned with `parameters`.
    public let shadow: [Tensor]
    public private(set) var updates: Int = 0

    public init(parameters: [Parameter], decay: Float) {
        precondition(decay >= 0 && decay <= 1, "EMA: decay \(decay) outside [0, 1]")
        self.parameters = parameters
        self.decay = decay
        shadow = parameters.map { $0.value.copy() }
    }

    public func update() {
        let d = decay
        for (p, s) in zip(parameters, shadow) {
            let sp = s.data, vp = p.value.data
            Parallel.forRanges(s.count, grain: 1 << 15) { r in for i in r { sp[i] = d * sp[i] + (1 - d) * vp[i] } }
        }
        updates += 1
    }

    /// The averaged weights under the parameters' own names (what a sampler loads).
    public func shadowTensors() -> [(String, Tensor)] { zip(parameters, shadow).map { ($0.name, $1) } }

    /// Checkpoint form: `ema.<param>` for every parameter.
    public func stateTensors() -> [(String, Tensor)] { zip(parameters, shadow).map { ("ema." + $0.name, $1) } }

    public func load(stateTensors: [String: Tensor]) throws {
        for (p, s) in zip(parameters, shadow) {
            let key = "ema." + p.name
            guard let t = stateTensors[key] else { throw TrainingError.badState("EMA state: missing '\(key)'") }
            guard t.shape == s.shape else {
                throw TrainingError.badState("EMA state: '\(key)' has shape \(t.shape), expected \(s.shape)")
            }
            s.copy(from: t)
        }
    }

    /// Overwrites the parameters with the averaged weights.
    public func copyToParameters() {
        for (p, s) in zip(parameters, shadow) { p.value.copy(from: s) }
    }

    /// Exchanges parameters and shadow in place: call once to sample with the averaged
    /// weights, and again to restore the training weights.
    public func swapWithParameters() {
        for (p, s) in zip(parameters, shadow) {
            let a = p.value.data, b = s.data
            for i in 0..<s.count { let t = a[i]; a[i] = b[i]; b[i] = t }
        }
    }
}
