import Diffusion
import NeuralNet
import Tensors

/// The text conditioning the UViT attends to: token states [B, T, Ct] and their mask [B, T].
public struct TextConditioning {
    public let context: Tensor
    public let mask: Tensor
    public var batch: Int { context.shape[0] }

    public init(context: Tensor, mask: Tensor) {
        precondition(context.rank == 3 && mask.shape == [context.shape[0], context.shape[1]],
                     "text conditioning: context \(context.shape) and mask \(mask.shape) disagree")
        self.context = context; self.mask = mask
    }

    /// The examples of `a` followed by those of `b` (guidance's doubled batch).
    public static func stacked(_ a: TextConditioning, _ b: TextConditioning) -> TextConditioning {
        TextConditioning(context: stackBatch(a.context, b.context), mask: stackBatch(a.mask, b.mask))
    }
}

/// `a` and `b` ([Bₐ, …] and [B_b, …] with equal trailing axes) as one [Bₐ + B_b, …] tensor.
public func stackBatch(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(Array(a.shape.dropFirst()) == Array(b.shape.dropFirst()), "stack: shape mismatch \(a.shape) vs \(b.shape)")
    let out = Tensor(uninitializedShape: [a.shape[0] + b.shape[0]] + a.shape.dropFirst())
    out.data.update(from: a.data, count: a.count)
    (out.data + a.count).update(from: b.data, count: b.count)
    return out
}

/// The teacher network: text encoder + UViT, predicting v̂ = F(z_t, λ(t), text) (docs/algorithms.md §2).
///
///     c      = TextEncoder(caption)  or the learned null conditioning (classifier-free guidance, §3)
///     e      = SiLU(MLP(features(λ(t))) + Linear(masked mean of c))
///     v̂      = UViT(z_t, e, cross-attention to c)
///
/// The null conditioning is one learned token state (`text.null`, init N(0, 1) like the encoder's
/// LayerNorm outputs) followed by padding, with mask [1, 0, …, 0].
/// Parameters: `text.*` (encoder), `text.null`, `embed.noise.*`, `embed.text.*`, the UViT's, and
/// for a guidance-conditioned student `embed.guidance.*` last (GuidanceInput.swift): then
/// e = SiLU(MLP(noise features) + Linear(pooled text) + MLP_w(features of w)).
public final class TextToImageModel: Module {
    public let config: ModelConfig
    public let tokenizer: Tokenizer
    public let encoder: TextEncoder
    public let nullToken: Parameter
    public let noiseMLP: MLP
    public let textProjection: Linear
    /// The guidance input's MLP (`embed.guidance.*`), only in a guidance-conditioned student.
    public let guidanceMLP: MLP?
    public let embeddingActivation = Activation(.silu)
    public let uvit: UViT
    /// Dropout runs only while training; sampling and evaluation switch it off.
    public var isTraining = false { didSet { for d in dropouts { d.isActive = isTraining } } }
    private var savedDenoise: (mask: Tensor, tokens: Int)?
    /// Network evaluations so far, counted per example (a guided step's doubled batch counts
    /// twice): NFE per image = the change over a sampling run / pictures drawn.
    public private(set) var exampleEvaluations = 0
    private var savedConditional: [Bool]?

    /// Init std of the text encoder's token and position tables. Unit scale, like the LayerNorm
    /// outputs the encoder's blocks add to them: with GPT-2's 0.02 (a token state of norm ≈ 0.2)
    /// the first few dozen AdamW steps — which move every weight by ≈ lr whatever its scale —
    /// fill the residual stream with caption-wide features (the background, the first thing the
    /// diffusion loss rewards) and the final LayerNorm squeezes each word's own identity out:
    /// the encoder's output then barely depends on the colour, shape, size or position word
    /// (|Δ state| for red → blue fell from 11 at init to 0.2 after 2500 iterations) and the UViT
    /// never learns them.
    public static let textEmbeddingStd: Float = 1

    /// A freshly initialised network; every initial value is a pure function of (seed, parameter name).
    public init(_ config: ModelConfig, tokenizer: Tokenizer = .shapes, seed: UInt64) throws {
        try config.validate()
        guard tokenizer.vocabularySize == config.text.vocabularySize, tokenizer.maxLength == config.text.maxLength else {
            throw ModelError("model config '\(config.preset)' expects a vocabulary of \(config.text.vocabularySize) and captions of \(config.text.maxLength) tokens; the tokenizer has \(tokenizer.vocabularySize) and \(tokenizer.maxLength)")
        }
        self.config = config
        self.tokenizer = tokenizer
        let rng = CounterRNG(seed: seed)
        let ct = config.text.width, e = config.uvit.embeddingWidth
        encoder = TextEncoder(config.text, name: "text", embeddingStd: Self.textEmbeddingStd, rng: rng)
        nullToken = Parameter(name: "text.null", value: Initializer.normal([1, ct], std: 1, name: "text.null", rng: rng))
        noiseMLP = MLP(dim: config.uvit.noiseFeatures, hidden: e, outDim: e, activation: .silu, name: "embed.noise", rng: rng)
        textProjection = Linear(inFeatures: ct, outFeatures: e, name: "embed.text", rng: rng)
        if let g = config.guidanceInput {
            try g.validate()
            let mlp = MLP(dim: g.features, hidden: e, outDim: e, activation: .silu, name: "embed.guidance", rng: rng)
            // Zero last layer: the student starts as the teacher, whatever w it is given.
            mlp.fc2.weight.value.zero()
            mlp.fc2.bias?.value.zero()
            guidanceMLP = mlp
        } else {
            guidanceMLP = nil
        }
        uvit = UViT(config.uvit, contextDim: ct, rng: rng)
        for d in dropouts { d.isActive = false }
    }

    public var parameters: [Parameter] {
        // The guidance MLP comes last, so every other parameter keeps its place (and its
        // optimiser and EMA slots) whether or not the network has one.
        encoder.parameters + [nullToken] + noiseMLP.parameters + textProjection.parameters + uvit.parameters
            + (guidanceMLP?.parameters ?? [])
    }

    /// The guidance range of a guidance-conditioned student, nil for any other network.
    public var guidanceRange: GuidanceRange? { config.guidanceInput?.range }

    public var dropouts: [Dropout] { uvit.dropouts }

    /// Makes every dropout mask of the next forward a pure function of (seed, layer, round):
    /// the trainer passes the iteration, so a resumed run draws the same masks.
    public func setDropoutRound(_ round: Int) { for d in dropouts { d.calls = UInt64(round) } }

    public var resolution: Int { config.uvit.resolution }
    public var schedule: CosineSchedule { config.schedule }

    // MARK: conditioning

    /// Token ids and mask of `captions` as the encoder takes them.
    public func tokens(_ captions: [String]) -> (ids: [Int], mask: Tensor) {
        let e = tokenizer.encode(batch: captions)
        return (e.ids.map(Int.init), Tensor(shape: [captions.count, tokenizer.maxLength], values: e.mask))
    }

    public func encode(_ captions: [String], save: Bool = false) -> TextConditioning {
        let (ids, mask) = tokens(captions)
        return TextConditioning(context: encoder.forward(ids: ids, mask: mask, save: save), mask: mask)
    }

    /// The learned null conditioning for `batch` examples.
    public func nullConditioning(_ batch: Int) -> TextConditioning {
        let t = config.text.maxLength, ct = config.text.width
        let context = Tensor(shape: [batch, t, ct]), mask = Tensor(shape: [batch, t])
        for b in 0..<batch {
            (context.data + b * t * ct).update(from: nullToken.value.data, count: ct)
            mask[b * t] = 1
        }
        return TextConditioning(context: context, mask: mask)
    }

    /// `c` with example b replaced by the null conditioning wherever `conditional[b]` is false.
    public func mixed(_ c: TextConditioning, conditional: [Bool]) -> TextConditioning {
        precondition(conditional.count == c.batch, "\(conditional.count) conditioning flags for a batch of \(c.batch)")
        if conditional.allSatisfy({ $0 }) { return c }
        let null = nullConditioning(1), t = config.text.maxLength, ct = config.text.width
        let context = c.context.copy(), mask = c.mask.copy()
        for (b, keep) in conditional.enumerated() where !keep {
            (context.data + b * t * ct).update(from: null.context.data, count: t * ct)
            (mask.data + b * t).update(from: null.mask.data, count: t)
        }
        return TextConditioning(context: context, mask: mask)
    }

    // MARK: denoising

    /// v̂ = F(z_t, λ(t), c) for z [B, R, R, 3], one time per example; a guidance-conditioned
    /// student also takes one guidance weight per example (and only it does).
    public func denoise(_ z: Tensor, t: [Float], conditioning c: TextConditioning, save: Bool,
                        guidance: [Float]? = nil) -> Tensor {
        precondition(t.count == z.shape[0] && c.batch == z.shape[0],
                     "denoise: batch of \(z.shape[0]) with \(t.count) times and \(c.batch) captions")
        precondition((guidanceMLP == nil) == (guidance == nil) && (guidance?.count ?? t.count) == t.count,
                     guidanceMLP == nil ? "denoise: this network takes no guidance input" : "denoise: a guidance-conditioned network needs one w per example")
        exampleEvaluations += z.shape[0]
        let features = noiseLevelFeatures(logSNR: t.map { schedule.logSNR(Double($0)) }, count: config.uvit.noiseFeatures)
        let raw = noiseMLP.forward(features, save: save)
        raw.add(textProjection.forward(maskedMeanForward(c.context, mask: c.mask), save: save))
        if let mlp = guidanceMLP, let guidance, let g = config.guidanceInput {
            raw.add(mlp.forward(guidanceFeatures(guidance, count: g.features), save: save))
        }
        let e = embeddingActivation.forward(raw, save: save)
        if save { savedDenoise = (c.mask, c.context.shape[1]) }
        return uvit.forward(z, embedding: e, context: c.context, contextMask: c.mask, save: save)
    }

    /// Backward of `denoise`: adds into the UViT's and the embedding's gradients and returns the
    /// gradient of the conditioning's token states (cross-attention and pooled path).
    public func denoiseBackward(_ dv: Tensor) -> Tensor {
        guard let (mask, tokens) = savedDenoise else { preconditionFailure("denoise: backward without a saved forward") }
        savedDenoise = nil
        let (_, de, dCross) = uvit.backward(dv)
        let dRaw = embeddingActivation.backward(de)
        _ = noiseMLP.backward(dRaw)
        _ = guidanceMLP?.backward(dRaw)
        let dContext = maskedMeanBackward(textProjection.backward(dRaw), mask: mask, tokens: tokens)
        if let dCross { dContext.add(dCross) }
        return dContext
    }

    // MARK: training

    /// The training forward: encode the captions, swap in the null conditioning where
    /// `conditional[b]` is false (probability p_uncond, §2), predict v̂.
    public func forward(_ z: Tensor, t: [Float], captions: [String], conditional: [Bool], save: Bool,
                        guidance: [Float]? = nil) -> Tensor {
        let c = mixed(encode(captions, save: save), conditional: conditional)
        if save { savedConditional = conditional }
        return denoise(z, t: t, conditioning: c, save: save, guidance: guidance)
    }

    /// Backward of `forward`, through the UViT into the text encoder and the null token.
    public func backward(_ dv: Tensor) {
        guard let conditional = savedConditional else { preconditionFailure("model: backward without a saved forward") }
        savedConditional = nil
        let dContext = denoiseBackward(dv)
        let t = config.text.maxLength, ct = config.text.width
        for (b, keep) in conditional.enumerated() where !keep {
            let row = dContext.data + b * t * ct
            let g = nullToken.grad.data
            for i in 0..<ct { g[i] += row[i] }
            row.update(repeating: 0, count: t * ct)
        }
        encoder.backward(dContext)
    }

    // MARK: sampling

    /// The Diffusion module's view of this network for `captions` (one per example of the batch):
    /// the conditional branch, the null branch, and both as one doubled batch for guidance.
    /// The captions are encoded once, not at every step. A guidance-conditioned student needs
    /// `guidance`, the w it is given as an input at every step (and no other network takes one).
    public func velocityModel(captions: [String], guidance: Double? = nil) -> VelocityModel {
        let cond = encode(captions), null = nullConditioning(captions.count)
        let both = TextConditioning.stacked(cond, null)
        let n = captions.count
        let w = guidance.map { [Float](repeating: Float($0), count: n) }
        return VelocityModel(bothBranches: { z, t in
            precondition(z.shape[0] == n, "velocity model for \(n) captions called with a batch of \(z.shape[0])")
            let v = self.denoise(stackBatch(z, z), t: t + t, conditioning: both, save: false, guidance: w.map { $0 + $0 })
            return (v.slice(0, n), v.slice(n, 2 * n))
        }) { z, t, conditional in
            precondition(z.shape[0] == n, "velocity model for \(n) captions called with a batch of \(z.shape[0])")
            return self.denoise(z, t: t, conditioning: conditional ? cond : null, save: false, guidance: w)
        }
    }
}
