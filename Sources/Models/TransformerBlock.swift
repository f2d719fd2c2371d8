import NeuralNet
import Tensors

/// A pre-norm transformer block on tokens x [B, T, D]:
///
///     x₁ = x  + SelfAttn(LN₁(x), keys masked by `selfMask`)
///     x₂ = x₁ + CrossAttn(LN₂(x₁), context, keys masked by `contextMask`)   (when contextDim is set)
///     y  = x₂ + Dropout(MLP(LN₃(x₂)))
///
/// The output projections of both attentions and the MLP's second layer start at zero, so a
/// fresh block is the identity (as ADM and DiT initialise residual branches).
/// Parameters: `<name>.ln1.*`, `<name>.attn.*`, `<name>.ln2.*`, `<name>.cross.*`, `<name>.ln3.*`, `<name>.mlp.*`.
public final class TransformerBlock: Module {
    public let ln1: LayerNorm, attn: MultiHeadAttention
    public let ln2: LayerNorm?, cross: MultiHeadAttention?
    public let ln3: LayerNorm, mlp: MLP
    public let dropout: Dropout?

    public init(width: Int, heads: Int, mlpRatio: Int, contextDim: Int?, dropout: Float, name: String, rng: CounterRNG) {
        ln1 = LayerNorm(features: width, name: dotted(name, "ln1"))
        attn = MultiHeadAttention(dim: width, heads: heads, name: dotted(name, "attn"), rng: rng)
        if let contextDim {
            ln2 = LayerNorm(features: width, name: dotted(name, "ln2"))
            cross = MultiHeadAttention(dim: width, heads: heads, contextDim: contextDim, name: dotted(name, "cross"), rng: rng)
        } else {
            ln2 = nil; cross = nil
        }
        ln3 = LayerNorm(features: width, name: dotted(name, "ln3"))
        mlp = MLP(dim: width, hidden: mlpRatio * width, activation: .gelu, name: dotted(name, "mlp"), rng: rng)
        self.dropout = dropout > 0 ? Dropout(p: dropout, rng: rng, name: dotted(name, "mlp")) : nil
        attn.out.weight.value.zero()
        cross?.out.weight.value.zero()
        mlp.fc2.weight.value.zero()
    }

    public var parameters: [Parameter] {
        ln1.parameters + attn.parameters + (ln2?.parameters ?? []) + (cross?.parameters ?? []) + ln3.parameters + mlp.parameters
    }

    public var dropouts: [Dropout] { dropout.map { [$0] } ?? [] }

    public func forward(_ x: Tensor, selfMask: Tensor? = nil, context: Tensor? = nil, contextMask: Tensor? = nil,
                        save: Bool) -> Tensor {
        var h = added(x, attn.forward(ln1.forward(x, save: save), keyMask: selfMask, save: save))
        if let cross, let ln2 {
            precondition(context != nil, "transformer block: cross-attention needs a context")
            h = added(h, cross.forward(ln2.forward(h, save: save), context: context, keyMask: contextMask, save: save))
        }
        var m = mlp.forward(ln3.forward(h, save: save), save: save)
        if let dropout { m = dropout.forward(m, save: save) }
        return added(h, m)
    }

    /// Returns dx and, with cross-attention, the context's gradient.
    public func backward(_ dy: Tensor) -> (dx: Tensor, dContext: Tensor?) {
        let dm = dropout.map { $0.backward(dy) } ?? dy
        let dh = ln3.backward(mlp.backward(dm))
        dh.add(dy)
        var dContext: Tensor? = nil
        if let cross, let ln2 {
            let (dq, dc) = cross.backward(dh)
            dh.add(ln2.backward(dq))
            dContext = dc
        }
        let dx = ln1.backward(attn.backward(dh).dx)
        dx.add(dh)
        return (dx, dContext)
    }
}
