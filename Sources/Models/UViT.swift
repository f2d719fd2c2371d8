import NeuralNet
import Tensors

/// The UViT of "simple diffusion" (Hoogeboom et al., 2023), channels-last. Dimensions: B images
/// of R×R×3, levels l = 0 … L−1 at resolution R/2^l with C_l channels, the transformer on
/// N = (R/2^L)² tokens of width D, text context [B, T, Ct] with its padding mask.
///
///     h = Conv3×3(z)                                           [B, R, R, C₀]
///     down, level l:  h = ResBlock(h, e) × n_l;  skip_l = h;  h = AvgPool2×2(h)
///     middle:         t = Linear(h) + Pos                      [B, N, D]
///                     t = TransformerBlock(t, context) × K      (self-attn, cross-attn to text, MLP)
///                     h = Linear(LN(t))                        [B, R/2^L, R/2^L, C_{L−1}]
///     up, level l:    h = Upsample2×(h);  h = concat(h, skip_l);  h = ResBlock(h, e) × n_l
///     v̂ = Conv3×3(SiLU(GN(h)))                                  [B, R, R, 3]
///
/// e = SiLU(MLP(noise features of λ) + Linear(pooled text)) conditions every ResBlock (FiLM).
/// The output convolution starts at zero, so a fresh network predicts v̂ = 0. `Pos` starts at
/// N(0, 1), not ViT's N(0, 0.02²): the tokens it is added to are un-normalised ResBlock
/// features (per-token norm ≈ 3 at init, ≈ 190 in a trained `small` teacher), so a 0.02 table
/// (norm ≈ 0.3) leaves the transformer with almost no notion of where a token is — which at
/// high noise, when z shows nothing, is the only way to put a shape where the caption says.
/// Parameters: `conv_in.*`, `down.<l>.res.<i>.*`, `mid.proj_in.*`, `mid.position`,
/// `mid.blocks.<k>.*`, `mid.ln.*`, `mid.proj_out.*`, `up.<l>.res.<i>.*`, `out.norm.*`, `out.conv.*`.
public final class UViT: Module {
    public let config: UViTConfig
    public let convIn: Conv2d
    public let down: [[ResBlock]]
    public let pools: [AvgPool2x2]
    public let projIn: Linear
    public let position: Parameter
    public let blocks: [TransformerBlock]
    public let midNorm: LayerNorm
    public let projOut: Linear
    public let ups: [Upsample2x]
    public let up: [[ResBlock]]
    public let outNorm: GroupNorm, outAct = Activation(.silu), outConv: Conv2d
    private var savedWidths: [[Int]]?   // concat widths per up level

    public init(_ config: UViTConfig, contextDim: Int, name: String = "", rng: CounterRNG) {
        self.config = config
        let c = config.channels, e = config.embeddingWidth, g = config.maxGroups
        func p(_ s: String) -> String { dotted(name, s) }
        func drop(_ level: Int) -> Float { level >= config.dropoutFromLevel ? config.dropout : 0 }
        convIn = Conv2d(inChannels: 3, outChannels: c[0], name: p("conv_in"), rng: rng)
        var down: [[ResBlock]] = [], inC = c[0]
        for l in 0..<config.levels {
            var level: [ResBlock] = []
            for i in 0..<config.resBlocks[l] {
                level.append(ResBlock(inChannels: inC, outChannels: c[l], embeddingWidth: e, maxGroups: g,
                                      dropout: drop(l), name: p("down.\(l).res.\(i)"), rng: rng))
                inC = c[l]
            }
            down.append(level)
        }
        self.down = down
        pools = (0..<config.levels).map { _ in AvgPool2x2() }
        let last = c[config.levels - 1], d = config.transformerWidth
        projIn = Linear(inFeatures: last, outFeatures: d, name: p("mid.proj_in"), rng: rng)
        let posName = p("mid.position")
        position = Parameter(name: posName, value: Initializer.normal([config.tokenGrid * config.tokenGrid, d], std: 1,
                                                                      name: posName, rng: rng))
        blocks = (0..<config.transformerBlocks).map {
            TransformerBlock(width: d, heads: config.heads, mlpRatio: config.mlpRatio, contextDim: contextDim,
                             dropout: config.dropout, name: p("mid.blocks.\($0)"), rng: rng)
        }
        midNorm = LayerNorm(features: d, name: p("mid.ln"))
        projOut = Linear(inFeatures: d, outFeatures: last, name: p("mid.proj_out"), rng: rng)
        ups = (0..<config.levels).map { _ in Upsample2x() }
        var up: [[ResBlock]] = []
        var below = last
        for l in (0..<config.levels).reversed() {
            up.append((0..<config.resBlocks[l]).map { i in
                ResBlock(inChannels: i == 0 ? below + c[l] : c[l], outChannels: c[l], embeddingWidth: e, maxGroups: g,
                         dropout: drop(l), name: p("up.\(l).res.\(i)"), rng: rng)
            })
            below = c[l]
        }
        self.up = up.reversed()   // up[l] serves level l
        outNorm = GroupNorm(groups: groupCount(c[0], maxGroups: g), channels: c[0], name: p("out.norm"))
        outConv = Conv2d(inChannels: c[0], outChannels: 3, name: p("out.conv"), rng: rng)
        outConv.weight.value.zero()
    }

    public var parameters: [Parameter] {
        var ps = convIn.parameters
        for level in down { for r in level { ps += r.parameters } }
        ps += projIn.parameters + [position]
        for b in blocks { ps += b.parameters }
        ps += midNorm.parameters + projOut.parameters
        for level in up.reversed() { for r in level { ps += r.parameters } }
        return ps + outNorm.parameters + outConv.parameters
    }

    public var dropouts: [Dropout] {
        down.joined().flatMap(\.dropouts) + blocks.flatMap(\.dropouts) + up.joined().flatMap(\.dropouts)
    }

    /// z [B, R, R, 3], e = SiLU(embedding) [B, E], context [B, T, Ct], contextMask [B, T] → v̂ [B, R, R, 3].
    public func forward(_ z: Tensor, embedding e: Tensor, context: Tensor, contextMask: Tensor, save: Bool) -> Tensor {
        let r = config.resolution
        precondition(z.rank == 4 && z.shape[1] == r && z.shape[2] == r && z.shape[3] == 3,
                     "UViT: input \(z.shape) is not [B, \(r), \(r), 3]")
        let b = z.shape[0]
        var h = convIn.forward(z, save: save)
        var skips: [Tensor] = []
        for l in 0..<config.levels {
            for block in down[l] { h = block.forward(h, embedding: e, save: save) }
            skips.append(h)
            h = pools[l].forward(h, save: save)
        }
        let g = config.tokenGrid, last = config.channels[config.levels - 1]
        var t = broadcastAdd(projIn.forward(h.reshaped([b, g * g, last]), save: save), position.value)
        for block in blocks { t = block.forward(t, context: context, contextMask: contextMask, save: save) }
        h = projOut.forward(midNorm.forward(t, save: save), save: save).reshaped([b, g, g, last])
        var widths: [[Int]] = Array(repeating: [], count: config.levels)
        for l in (0..<config.levels).reversed() {
            h = ups[l].forward(h, save: save)
            widths[l] = [h.shape[3], skips[l].shape[3]]
            h = concatLastAxis([h, skips[l]])
            for block in up[l] { h = block.forward(h, embedding: e, save: save) }
        }
        if save { savedWidths = widths }
        return outConv.forward(outAct.forward(outNorm.forward(h, save: save), save: save), save: save)
    }

    /// Adds into every parameter's gradient; returns (dz, de, dContext) — dContext is nil only
    /// when there are no transformer blocks.
    public func backward(_ dv: Tensor) -> (dz: Tensor, dEmbedding: Tensor, dContext: Tensor?) {
        guard let widths = savedWidths else { preconditionFailure("UViT: backward without a saved forward") }
        savedWidths = nil
        var de: Tensor? = nil
        func addDe(_ g: Tensor) { if let de { de.add(g) } else { de = g } }
        var dh = outNorm.backward(outAct.backward(outConv.backward(dv)))
        var dSkips = [Tensor?](repeating: nil, count: config.levels)
        for l in 0..<config.levels {
            for block in up[l].reversed() {
                let (dx, dE) = block.backward(dh)
                dh = dx; addDe(dE)
            }
            let parts = splitLastAxis(dh, widths: widths[l])
            dSkips[l] = parts[1]
            dh = ups[l].backward(parts[0])
        }
        let b = dv.shape[0], g = config.tokenGrid, last = config.channels[config.levels - 1]
        var dt = midNorm.backward(projOut.backward(dh.reshaped([b, g * g, last])))
        var dContext: Tensor? = nil
        for block in blocks.reversed() {
            let (dx, dc) = block.backward(dt)
            dt = dx
            if let dc { if let acc = dContext { acc.add(dc) } else { dContext = dc } }
        }
        position.grad.add(reduceToShape(dt, position.value.shape, "UViT position backward"))
        dh = projIn.backward(dt).reshaped([b, g, g, last])
        for l in (0..<config.levels).reversed() {
            dh = pools[l].backward(dh)
            dh.add(dSkips[l]!)
            for block in down[l].reversed() {
                let (dx, dE) = block.backward(dh)
                dh = dx; addDe(dE)
            }
        }
        let dz = convIn.backward(dh)
        return (dz, de!, dContext)
    }
}
