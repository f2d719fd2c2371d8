import NeuralNet
import Tensors

/// Caption encoder. Dimensions: B captions, T tokens, Ct = `config.width`.
///
///     h₀ = TokenEmbedding(ids) + PositionEmbedding          [B, T, Ct]
///     h_{i+1} = TransformerBlock_i(h_i, keys masked by the padding mask)
///     out = LN(h_N)                                          [B, T, Ct]
///
/// The padding mask travels with the output: padded positions are computed but every consumer
/// (cross-attention keys, the pooled embedding) ignores them.
/// Init: token and position tables N(0, embeddingStd²) (default 0.02, GPT-2's; the teacher passes
/// 1, see `TextToImageModel`); blocks as `TransformerBlock`.
/// Parameters: `<name>.token.weight`, `<name>.position`, `<name>.layers.<i>.*`, `<name>.ln.*`.
public final class TextEncoder: Module {
    public let config: TextEncoderConfig
    public let token: Embedding
    public let position: Parameter
    public let layers: [TransformerBlock]
    public let ln: LayerNorm
    private var savedBatch: Int?

    public init(_ config: TextEncoderConfig, name: String, embeddingStd: Float = 0.02, rng: CounterRNG) {
        self.config = config
        token = Embedding(count: config.vocabularySize, dim: config.width, std: embeddingStd, name: dotted(name, "token"), rng: rng)
        let pName = dotted(name, "position")
        position = Parameter(name: pName, value: Initializer.normal([config.maxLength, config.width], std: embeddingStd,
                                                                    name: pName, rng: rng))
        layers = (0..<config.layers).map {
            TransformerBlock(width: config.width, heads: config.heads, mlpRatio: config.mlpRatio, contextDim: nil, dropout: 0,
                             name: dotted(name, "layers.\($0)"), rng: rng)
        }
        ln = LayerNorm(features: config.width, name: dotted(name, "ln"))
    }

    public var parameters: [Parameter] {
        token.parameters + [position] + layers.flatMap(\.parameters) + ln.parameters
    }

    /// ids: B·T token ids (row-major [B, T]); mask: [B, T] of 0/1. Returns [B, T, Ct].
    public func forward(ids: [Int], mask: Tensor, save: Bool) -> Tensor {
        let t = config.maxLength, b = ids.count / t
        precondition(ids.count == b * t && b > 0, "text encoder: \(ids.count) ids do not form rows of \(t) tokens")
        checkShape(mask, [b, t], "text encoder mask")
        if save { savedBatch = b }
        var h = broadcastAdd(token.forward(ids, save: save).reshaped([b, t, config.width]), position.value)
        for layer in layers { h = layer.forward(h, selfMask: mask, save: save) }
        return ln.forward(h, save: save)
    }

    /// Adds into every parameter's gradient from dOut [B, T, Ct] (ids have no gradient).
    public func backward(_ dOut: Tensor) {
        guard let b = savedBatch else { preconditionFailure("text encoder: backward without a saved forward") }
        savedBatch = nil
        var dh = ln.backward(dOut)
        for layer in layers.reversed() { dh = layer.backward(dh).dx }
        position.grad.add(reduceToShape(dh, position.value.shape, "text position backward"))
        token.backward(dh.reshaped([b * config.maxLength, config.width]))
    }
}
