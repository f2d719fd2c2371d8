import Diffusion
import Formats
import Foundation

// Network shapes as plain structs with defaults (nanoGPT style), and the three presets.
// A config is stored as JSON beside every trained model, so a checkpoint rebuilds its network
// without knowing which preset made it.

/// The caption encoder: token + learned position embeddings, `layers` pre-norm transformer
/// layers (self-attention with the padding mask, MLP), a final LayerNorm.
public struct TextEncoderConfig: Codable, Equatable, Sendable {
    /// Ct: channels of every token state (and of the context the UViT attends to).
    public var width: Int
    public var layers: Int
    public var heads: Int
    /// MLP hidden width = mlpRatio · width.
    public var mlpRatio: Int
    /// T: tokens per caption (the tokenizer's fixed length).
    public var maxLength: Int
    /// Rows of the token embedding (the tokenizer's vocabulary size).
    public var vocabularySize: Int

    public init(width: Int, layers: Int, heads: Int, mlpRatio: Int = 4, maxLength: Int = Tokenizer.shapes.maxLength,
                vocabularySize: Int = Tokenizer.shapes.vocabularySize) {
        self.width = width; self.layers = layers; self.heads = heads; self.mlpRatio = mlpRatio
        self.maxLength = maxLength; self.vocabularySize = vocabularySize
    }
}

/// The UViT of "simple diffusion": ResBlock levels at resolutions R, R/2, …, R/2^(L−1) with
/// `channels[l]` channels and `resBlocks[l]` blocks each (down and up), 2×2 average pooling
/// between them, and a transformer stack (self-attention, cross-attention to the text, MLP) on
/// the (R/2^L)² tokens below the last level.
public struct UViTConfig: Codable, Equatable, Sendable {
    /// R: images are R×R×3.
    public var resolution: Int
    public var channels: [Int]
    public var resBlocks: [Int]
    /// D: token width of the transformer stack.
    public var transformerWidth: Int
    public var transformerBlocks: Int
    public var heads: Int
    public var mlpRatio: Int
    /// E: width of the noise-level (+ pooled text) embedding every ResBlock is conditioned on.
    public var embeddingWidth: Int
    /// Sinusoidal features of the noise level fed to the embedding MLP.
    public var noiseFeatures: Int
    /// GroupNorm uses the largest divisor of the channel count not above this.
    public var maxGroups: Int
    /// Dropout probability in the middle of the network: ResBlocks of levels ≥ `dropoutFromLevel`
    /// and the transformer's MLPs ("simple diffusion": no dropout at the highest resolutions).
    public var dropout: Float
    public var dropoutFromLevel: Int

    public init(resolution: Int, channels: [Int], resBlocks: [Int], transformerWidth: Int, transformerBlocks: Int,
                heads: Int, mlpRatio: Int = 4, embeddingWidth: Int, noiseFeatures: Int = 64, maxGroups: Int = 32,
                dropout: Float = 0, dropoutFromLevel: Int = 1) {
        self.resolution = resolution; self.channels = channels; self.resBlocks = resBlocks
        self.transformerWidth = transformerWidth; self.transformerBlocks = transformerBlocks; self.heads = heads
        self.mlpRatio = mlpRatio; self.embeddingWidth = embeddingWidth; self.noiseFeatures = noiseFeatures
        self.maxGroups = maxGroups; self.dropout = dropout; self.dropoutFromLevel = dropoutFromLevel
    }

    public var levels: Int { channels.count }
    /// Side of the transformer's token grid: R / 2^L.
    public var tokenGrid: Int { resolution >> levels }
}

/// Everything needed to rebuild a text-to-image network: both parts and the noise schedule
/// (whose log-SNR the network is conditioned on).
public struct ModelConfig: StoredConfig, Equatable, Sendable {
    public static let storedName = "a ModelConfig"
    public func validateStored(field: String) throws { try validate(FieldCheck(field + ".")) }

    public var preset: String
    public var text: TextEncoderConfig
    public var uvit: UViTConfig
    public var schedule: CosineSchedule
    /// Set only for a guidance-conditioned student (see GuidanceInput.swift); nil is omitted from
    /// the JSON, so every other model's config reads and writes exactly as before.
    public var guidanceInput: GuidanceInputConfig? = nil

    public init(preset: String, text: TextEncoderConfig, uvit: UViTConfig, schedule: CosineSchedule = CosineSchedule()) {
        self.preset = preset; self.text = text; self.uvit = uvit; self.schedule = schedule
    }

    /// Throws a one-line error for shapes the network cannot be built with.
    public func validate() throws {
        do { try validate(FieldCheck()) } catch let e as ModelError {
            throw ModelError("model config '\(printableField(preset))': \(e.description)")
        }
    }

    /// Every field in range and the network's size under the caps, before anything is
    /// allocated; errors name the field under `check`'s prefix ("config.uvit.maxGroups").
    public func validate(_ check: FieldCheck) throws {
        guard !preset.isEmpty, preset.count <= 64, preset.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw check.fail("preset", "must be a name of 1…64 printable characters, got '\(printableField(preset))'")
        }
        try text.validate(check.nested("text"))
        try uvit.validate(check.nested("uvit"), contextWidth: text.width)
        try schedule.validate(check.nested("schedule"))
        guard let n = parameterCount, n <= maxModelParameters else {
            throw check.fail("uvit", "and text together exceed the \(maxModelParameters)-parameter limit")
        }
    }

    /// Parameters of the `TextToImageModel` this config builds (nil on overflow): text
    /// encoder, null token, noise MLP, text projection, UViT.
    public var parameterCount: Int? {
        let ct = text.width, e = uvit.embeddingWidth, f = uvit.noiseFeatures
        return CheckedSize.sum([text.parameterCount, ct, CheckedSize.product(f, e), e, CheckedSize.product(e, e), e,
                                CheckedSize.product(ct, e), e, uvit.parameterCount(contextWidth: ct)])
    }

    /// Decodes and validates the config a file's metadata holds under `field` (errors name
    /// the file and the field, e.g. "t.safetensors: config.uvit.maxGroups must be ≥ 1, got 0").
    public static func decode(json: String, source: String, field: String = "config") throws -> ModelConfig {
        try decodeStored(json: json, source: source, field: field)
    }
}

/// One-line errors a user can cause (unknown preset, bad config, mismatched files).
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension ModelConfig {
    public static let presetNames = ["tiny", "small", "base"]

    /// A named preset, or a one-line error listing the names.
    public static func preset(_ name: String) throws -> ModelConfig {
        switch name {
        case "tiny": return .tiny
        case "small": return .small
        case "base": return .base
        default: throw ModelError("unknown model preset '\(name)' (choose one of: \(presetNames.joined(separator: ", ")))")
        }
    }

    /// For tests: 16×16, a few thousand parameters per part, a training step in milliseconds.
    /// Dropout is on so tests exercise its reproducibility.
    public static let tiny = ModelConfig(
        preset: "tiny",
        text: TextEncoderConfig(width: 16, layers: 1, heads: 2, mlpRatio: 2),
        uvit: UViTConfig(resolution: 16, channels: [8, 16], resBlocks: [1, 1], transformerWidth: 16,
                         transformerBlocks: 1, heads: 2, mlpRatio: 2, embeddingWidth: 16, noiseFeatures: 8,
                         maxGroups: 4, dropout: 0.1, dropoutFromLevel: 1))

    /// The default teacher: 16×16 shapes-world scenes, trainable on two CPU cores in under
    /// half an hour. One ResBlock per level at 16² (64 channels) and 8² (128), three
    /// transformer blocks of width 256 on the 4×4 tokens: about 4.3M parameters and
    /// 0.31 GFLOP per image, the scale of the PyTorch UViT the issue compares against.
    /// The text encoder has no transformer layers: each token state is its word and slot only.
    /// With two self-attention layers the encoder, trained from scratch on 900 captions, learned
    /// caption-wide conjunctions, and on held-out colour–shape pairs the teacher placed the shape
    /// right only 49 % of the time and drew its shape 24 % (chance 20 %); with none, 100 % and
    /// 53 % (docs/results.md). The UViT's cross-attention does the composing.
    public static let small = ModelConfig(
        preset: "small",
        text: TextEncoderConfig(width: 128, layers: 0, heads: 4),
        uvit: UViTConfig(resolution: 16, channels: [64, 128], resBlocks: [1, 1], transformerWidth: 256,
                         transformerBlocks: 3, heads: 4, embeddingWidth: 256, noiseFeatures: 64,
                         maxGroups: 32, dropout: 0, dropoutFromLevel: 1))

    /// For bigger machines: the ImageNet64 UViT shape (ResBlock levels at 64², 32², 16² with
    /// channel multipliers 1 : 2 : 4, transformer stack at 8²), scaled down by 4 in width
    /// (base channels 64 instead of 256, transformer 256 instead of 1024) and by 4 in depth
    /// (4 transformer blocks instead of 16).
    public static let base = ModelConfig(
        preset: "base",
        text: TextEncoderConfig(width: 256, layers: 4, heads: 4),
        uvit: UViTConfig(resolution: 64, channels: [64, 128, 256], resBlocks: [2, 2, 2], transformerWidth: 256,
                         transformerBlocks: 4, heads: 4, embeddingWidth: 256, noiseFeatures: 64,
                         maxGroups: 32, dropout: 0.1, dropoutFromLevel: 1))
}
