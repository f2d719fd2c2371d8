import Diffusion
import Foundation
import NeuralNet
import Tensors

/// A small time-conditioned MLP v̂ = F(z, t) for data in R^D, the student (and the "teacher
/// weights" it starts from) in the analytic-teacher experiments. Dimensions: B examples, D data
/// numbers, F time frequencies, H hidden units.
///
///     input  h0 = [z, sin(π k t), cos(π k t) for k = 1…F]          (D + 2F)
///     h1 = SiLU(fc1 h0),  h2 = SiLU(fc2 h1),  v̂ = fc3 h2           (H, H, D)
///
/// Layers are the NeuralNet engine's `Linear` (LeCun-normal weights, zero biases) and
/// `Activation(.silu)`. Parameters: `<name>.fc1.*`, `<name>.fc2.*`, `<name>.fc3.*`.
public final class ToyVelocityNet: Module {
    public let name: String
    public let dimension: Int
    public let frequencies: Int
    public let fc1: Linear, fc2: Linear, fc3: Linear
    let act1 = Activation(.silu), act2 = Activation(.silu)

    public init(dimension: Int, hidden: Int = 64, frequencies: Int = 4, name: String = "toy", rng: CounterRNG) {
        self.name = name
        self.dimension = dimension
        self.frequencies = frequencies
        fc1 = Linear(inFeatures: dimension + 2 * frequencies, outFeatures: hidden, name: dotted(name, "fc1"), rng: rng)
        fc2 = Linear(inFeatures: hidden, outFeatures: hidden, name: dotted(name, "fc2"), rng: rng)
        fc3 = Linear(inFeatures: hidden, outFeatures: dimension, name: dotted(name, "fc3"), rng: rng)
    }

    public var parameters: [Parameter] { fc1.parameters + fc2.parameters + fc3.parameters }

    /// v̂ for z ([B, D]) at one time per example; `save` keeps what `backward` needs.
    public func forward(_ z: Tensor, _ t: [Float], save: Bool) -> Tensor {
        let b = z.shape[0]
        precondition(z.count == b * dimension && t.count == b, "ToyVelocityNet: z \(z.shape) and \(t.count) times for D = \(dimension)")
        let width = dimension + 2 * frequencies
        let input = Tensor(shape: [b, width])
        let zp = z.data, ip = input.data
        for i in 0..<b {
            let row = ip + i * width
            for e in 0..<dimension { row[e] = zp[i * dimension + e] }
            for k in 0..<frequencies {
                let a = Double.pi * Double(k + 1) * Double(t[i])
                row[dimension + 2 * k] = Float(Foundation.sin(a))
                row[dimension + 2 * k + 1] = Float(Foundation.cos(a))
            }
        }
        let h1 = act1.forward(fc1.forward(input, save: save), save: save)
        let h2 = act2.forward(fc2.forward(h1, save: save), save: save)
        return fc3.forward(h2, save: save).reshaped(z.shape)
    }

    /// Adds dloss/dparameters for dloss/dv̂ `dv` of the last saved forward.
    public func backward(_ dv: Tensor) {
        let g = fc3.backward(dv.reshaped([dv.shape[0], dimension]))
        _ = fc1.backward(act1.backward(fc2.backward(act2.backward(g))))
    }

    /// The network as the Diffusion module's model interface (no null conditioning).
    public var model: VelocityModel {
        VelocityModel.unconditional { [unowned self] z, t in self.forward(z, t, save: false) }
    }

    /// A network of the same shape holding `tensors` (e.g. an EMA's shadow weights).
    public func copy(with tensors: [(String, Tensor)], rng: CounterRNG = CounterRNG(seed: 0)) throws -> ToyVelocityNet {
        let other = ToyVelocityNet(dimension: dimension, hidden: fc1.outFeatures, frequencies: frequencies,
                                   name: name, rng: rng)
        try other.load(Dictionary(tensors, uniquingKeysWith: { a, _ in a }))
        return other
    }
}
