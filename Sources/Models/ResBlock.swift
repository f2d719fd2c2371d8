import NeuralNet
import Tensors

/// Largest divisor of `channels` not above `maxGroups` (GroupNorm needs equal groups).
func groupCount(_ channels: Int, maxGroups: Int) -> Int {
    var g = min(maxGroups, channels)
    while channels % g != 0 { g -= 1 }
    return g
}

/// Residual block conditioned on the embedding e [B, E] (noise level + pooled text), on
/// x [B, H, W, Ci] → [B, H, W, Co]:
///
///     h = Conv3×3(SiLU(GN₁(x)))
///     h = FiLM(GN₂(h), Linear(e))            scale and shift per channel: GN₂(h)·(1 + γ) + β
///     h = Conv3×3(Dropout(SiLU(h)))
///     y = skip(x) + h                         skip = 1×1 conv when Ci ≠ Co, else identity
///
/// The second convolution starts at zero (the block starts as its skip path); the embedding
/// projection starts at zero too, so conditioning begins neutral (γ = β = 0).
/// Parameters: `<name>.norm1.*`, `<name>.conv1.*`, `<name>.emb.*`, `<name>.norm2.*`,
/// `<name>.conv2.*`, `<name>.skip.*`.
public final class ResBlock: Module {
    public let norm1: GroupNorm, act1 = Activation(.silu), conv1: Conv2d
    public let emb: Linear
    public let norm2: GroupNorm, act2 = Activation(.silu), conv2: Conv2d
    public let dropout: Dropout?
    public let skip: Conv2d?
    private var saved: (normed: Tensor, film: Tensor)?

    public init(inChannels: Int, outChannels: Int, embeddingWidth: Int, maxGroups: Int, dropout: Float,
                name: String, rng: CounterRNG) {
        norm1 = GroupNorm(groups: groupCount(inChannels, maxGroups: maxGroups), channels: inChannels, name: dotted(name, "norm1"))
        conv1 = Conv2d(inChannels: inChannels, outChannels: outChannels, name: dotted(name, "conv1"), rng: rng)
        emb = Linear(inFeatures: embeddingWidth, outFeatures: 2 * outChannels, name: dotted(name, "emb"), rng: rng)
        norm2 = GroupNorm(groups: groupCount(outChannels, maxGroups: maxGroups), channels: outChannels, name: dotted(name, "norm2"))
        conv2 = Conv2d(inChannels: outChannels, outChannels: outChannels, name: dotted(name, "conv2"), rng: rng)
        self.dropout = dropout > 0 ? Dropout(p: dropout, rng: rng, name: name) : nil
        skip = inChannels == outChannels ? nil
            : Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: 1, name: dotted(name, "skip"), rng: rng)
        conv2.weight.value.zero()
        emb.weight.value.zero()
    }

    public var parameters: [Parameter] {
        norm1.parameters + conv1.parameters + emb.parameters + norm2.parameters + conv2.parameters + (skip?.parameters ?? [])
    }

    public var dropouts: [Dropout] { dropout.map { [$0] } ?? [] }

    /// e is the already activated embedding SiLU(e_raw) [B, E], shared by all blocks.
    public func forward(_ x: Tensor, embedding e: Tensor, save: Bool) -> Tensor {
        let h1 = conv1.forward(act1.forward(norm1.forward(x, save: save), save: save), save: save)
        let film = emb.forward(e, save: save)
        let normed = norm2.forward(h1, save: save)
        var h = act2.forward(filmForward(normed, film), save: save)
        if let dropout { h = dropout.forward(h, save: save) }
        h = conv2.forward(h, save: save)
        if save { saved = (normed, film) }
        return added(skip?.forward(x, save: save) ?? x, h)
    }

    /// Returns (dx, de) and adds into the parameters' gradients.
    public func backward(_ dy: Tensor) -> (dx: Tensor, dEmbedding: Tensor) {
        guard let (normed, film) = saved else { preconditionFailure("resblock: backward without a saved forward") }
        saved = nil
        var dh = conv2.backward(dy)
        if let dropout { dh = dropout.backward(dh) }
        let (dNormed, dFilm) = filmBackward(act2.backward(dh), x: normed, s: film)
        let de = emb.backward(dFilm)
        let dx = norm1.backward(act1.backward(conv1.backward(norm2.backward(dNormed))))
        if let skip { dx.add(skip.backward(dy)) } else { dx.add(dy) }
        return (dx, de)
    }
}
