import Foundation
import Models

/// The evaluator's shapes and its training run, as a plain struct with defaults (stored as
/// JSON in every evaluator file, so a file rebuilds its networks).
///
/// Defaults: 16×16; trunks of 16/32/64 channels with one extra full-resolution convolution; a
/// 64-d FID feature layer (few enough dimensions that the 160 pictures of 40 held-out prompts ×
/// 4 seeds give a full-rank covariance); a 64-d CLIP space; a one-layer text encoder of width
/// 32; 3,000 iterations of 64 distinct scenes at peak lr 1e-2 (warm-up 100, cosine to 5 %) —
/// under two minutes on two cores. Shape is the slow attribute: at lr 2e-3 it was still at
/// 45 % after 1,500 iterations while the other four were at 100 %.
public struct EvaluatorConfig: Codable, SortedJSONEncodable, Equatable, Sendable {
    public var resolution: Int = 16
    /// F: the classifier's penultimate width (the FID feature space).
    public var featureWidth: Int = 64
    /// The CLIP image trunk's output width, before the projection to E.
    public var clipTrunkWidth: Int = 128
    /// Both trunks' channels: level l has min(base·2^l, max); `extraConvs` more convolutions
    /// at full resolution (see `ConvTrunk`).
    public var baseChannels: Int = 16
    public var maxChannels: Int = 64
    public var extraConvs: Int = 1
    /// E: the CLIP embedding width.
    public var embeddingWidth: Int = 64
    public var text = TextEncoderConfig(width: 32, layers: 1, heads: 2, mlpRatio: 2)
    public var iterations: Int = 3000
    public var batchSize: Int = 64
    public var learningRate: Double = 1e-2
    public var warmupIterations: Int = 100
    public var seed: UInt64 = 0

    public init() {}

    /// For tests: a few hundred iterations of small batches.
    public static var tiny: EvaluatorConfig {
        var c = EvaluatorConfig()
        c.featureWidth = 32; c.clipTrunkWidth = 32; c.embeddingWidth = 32; c.extraConvs = 0
        c.text = TextEncoderConfig(width: 16, layers: 1, heads: 2, mlpRatio: 2)
        c.iterations = 200; c.batchSize = 32; c.warmupIterations = 10
        return c
    }

    public func validate() throws {
        func fail(_ s: String) -> EvaluationError { EvaluationError("evaluator config: \(s)") }
        guard resolution == 16 || resolution == 32 else { throw fail("resolution must be 16 or 32, got \(resolution)") }
        // Caps far above the defaults keep a crafted file from asking for gigabytes.
        for (field, value, range) in [("featureWidth", featureWidth, 2...8192), ("clipTrunkWidth", clipTrunkWidth, 1...8192),
                                      ("embeddingWidth", embeddingWidth, 2...8192), ("baseChannels", baseChannels, 1...512),
                                      ("maxChannels", maxChannels, 1...512), ("extraConvs", extraConvs, 0...8),
                                      ("warmupIterations", warmupIterations, 0...1_000_000_000)] where !range.contains(value) {
            throw fail("\(field) must be in \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
        guard text.width > 0, text.heads > 0, text.width % text.heads == 0, text.layers >= 0 else {
            throw fail("text width \(text.width) does not split into \(text.heads) heads")
        }
        do { try text.validate(FieldCheck("text.")) } catch let e as ModelError { throw fail(e.description) }
        // Any vocabulary: the shapes tokenizer's or one learned from a folder's training
        // captions (`Evaluator.init` checks it against the tokenizer it is given).
        let ids = Tokenizer.specialTokens.count + 1...Tokenizer.specialTokens.count + Tokenizer.maxLearnedWords
        guard ids.contains(text.vocabularySize) else {
            throw fail("text.vocabularySize must be in \(ids.lowerBound)…\(ids.upperBound), got \(text.vocabularySize)")
        }
        guard (1...1_000_000_000).contains(iterations) else { throw fail("iterations must be in 1…1000000000, got \(iterations)") }
        guard (2...1050).contains(batchSize) else { throw fail("batch must be 2…1050 distinct scenes, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw fail("learning rate must be positive") }
    }

    /// Decodes and validates the config a file's metadata holds (errors name the file).
    public static func decode(json: String, source: String) throws -> EvaluatorConfig {
        let config: EvaluatorConfig
        do { config = try JSONDecoder().decode(EvaluatorConfig.self, from: Data(json.utf8)) } catch {
            throw EvaluationError("\(source): evaluator config is not valid JSON (\(decodingProblem(error)))")
        }
        do { try config.validate() } catch { throw EvaluationError("\(source): \(error)") }
        return config
    }
}
