import NeuralNet
import Tensors

/// The image encoder shared by both evaluator networks (a fresh copy each). Dimensions: B
/// images of R×R×3 (channels last, in [−1, 1]); L = log₂(R/2) levels; C_l = min(16·2^l, 64).
///
///     h₀ = x                                              [B, R, R, 3]
///     h_{l+1} = AvgPool2×2(SiLU(Conv3×3_l(h_l)))          [B, R/2^(l+1), R/2^(l+1), C_l]
///     out = SiLU(Linear(flatten(h_L)))                    [B, F]
///
/// The last map is 2×2 and is flattened rather than averaged, so *where* the shape is (one of
/// the world's five positions) survives into the features. No normalisation layers: the
/// evaluator must read absolute colours (the background's grey level is an attribute), which a
/// per-example norm would partly remove.
/// Background contrast: the first convolution reads 6 channels, x and x − b, where b is the
/// per-image, per-channel median of the border pixels (the background of a one-shape scene,
/// robust to a shape touching the border). A shape's outline is then visible in the same
/// channels whatever its colour and background — without it the first layer must learn one
/// edge detector per colour pair, and reading the shape of a 4-pixel object stalls.
/// Init: as `Conv2d` and `Linear` (LeCun normal, zero bias).
/// Parameters: `<name>.conv.<i>.*` (in order of application), `<name>.out.*`.
public final class ConvTrunk: Module {
    public let resolution: Int
    public let width: Int
    public let convs: [Conv2d]
    public let out: Linear
    /// Whether a pool follows conv i (the last conv of each level).
    private let pooled: [Bool]
    private let acts: [Activation]
    private let pools: [AvgPool2x2]
    private let lastChannels: Int
    private let outAct = Activation(.silu)
    private var savedBatch: Int?


    /// Resolutions the trunk accepts: powers of two from 4 to 64.
    public static func supports(resolution r: Int) -> Bool { r >= 4 && r <= 64 && r & (r - 1) == 0 }

    public init(resolution: Int, width: Int, baseChannels: Int = 16, maxChannels: Int = 64, extraConvs: Int = 0,
                name: String, rng: CounterRNG) {
        precondition(Self.supports(resolution: resolution), "\(name): resolution \(resolution) is not a power of two in 4…64")
        self.resolution = resolution
        self.width = width
        let levels = resolution.trailingZeroBitCount - 1
        var inC = 6, convs: [Conv2d] = [], pooled: [Bool] = []
        for l in 0..<levels {
            let c = min(baseChannels << l, maxChannels)
            for k in 0...(l == 0 ? extraConvs : 0) {
                convs.append(Conv2d(inChannels: inC, outChannels: c, name: dotted(name, "conv.\(convs.count)"), rng: rng))
                pooled.append(k == (l == 0 ? extraConvs : 0))
                inC = c
            }
        }
        self.convs = convs
        self.pooled = pooled
        lastChannels = inC
        acts = convs.map { _ in Activation(.silu) }
        pools = convs.map { _ in AvgPool2x2() }
        out = Linear(inFeatures: 4 * inC, outFeatures: width, name: dotted(name, "out"), rng: rng)
    }

    public var parameters: [Parameter] { convs.flatMap(\.parameters) + out.parameters }

    /// x [B, R, R, 3] → features [B, F].
    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        checkShape(x, [x.shape[0], resolution, resolution, 3], "evaluator trunk input")
        let b = x.shape[0]
        if save { savedBatch = b }
        var h = Self.withBackgroundContrast(x)
        for l in convs.indices {
            h = acts[l].forward(convs[l].forward(h, save: save), save: save)
            if pooled[l] { h = pools[l].forward(h, save: save) }
        }
        return outAct.forward(out.forward(h.reshaped([b, h.count / b]), save: save), save: save)
    }

    /// [B, R, R, 3] → [B, R, R, 6]: x, then x minus the median of its border pixels, per channel.
    static func withBackgroundContrast(_ x: Tensor) -> Tensor {
        let b = x.shape[0], r = x.shape[1], pixels = r * r
        let out = Tensor(uninitializedShape: [b, r, r, 6])
        var border: [Int] = []
        for i in 0..<r { border += [i, (r - 1) * r + i] }
        for i in 1..<(r - 1) { border += [i * r, i * r + r - 1] }
        var ring = [Float](repeating: 0, count: border.count)
        for e in 0..<b {
            let src = x.data + e * pixels * 3, dst = out.data + e * pixels * 6
            for c in 0..<3 {
                for (k, p) in border.enumerated() { ring[k] = src[p * 3 + c] }
                ring.sort()
                let median = ring[ring.count / 2]
                for p in 0..<pixels {
                    let v = src[p * 3 + c]
                    dst[p * 6 + c] = v
                    dst[p * 6 + 3 + c] = v - median
                }
            }
        }
        return out
    }

    /// Adds into every parameter's gradient from dOut [B, F]; the image needs no gradient.
    public func backward(_ dOut: Tensor) {
        guard let b = savedBatch else { preconditionFailure("evaluator trunk: backward without a saved forward") }
        savedBatch = nil
        let side = resolution >> pooled.filter { $0 }.count
        var dh = out.backward(outAct.backward(dOut)).reshaped([b, side, side, lastChannels])
        for l in stride(from: convs.count - 1, through: 0, by: -1) {
            let dConv = acts[l].backward(pooled[l] ? pools[l].backward(dh) : dh)
            if l == 0 { convs[l].backwardParameters(dConv) } else { dh = convs[l].backward(dConv) }
        }
    }
}
