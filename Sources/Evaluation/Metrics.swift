import Formats
import Foundation

/// What one evaluated configuration (a model with a sampler, step count and guidance) scored.
///
/// Every FID travels with its feature extractor, feature dimension and sample counts, and every
/// CLIP score with its embedding model and pair count (docs/algorithms.md §7); `validate()` enforces
/// that before anything is written.
public struct EvaluationMetrics: Codable, Equatable {
    /// Display name, e.g. "student S=4".
    public var model: String
    /// The weights evaluated: an artifact id or path.
    public var artifact: String?
    /// The series this entry belongs to in plots, e.g. "student", "teacher-DDIM", "teacher-aDDIM".
    public var kind: String
    /// e.g. "multistep-consistency", "DDIM", "aDDIM".
    public var sampler: String
    public var steps: Int
    /// Classifier-free guidance weight w (docs/algorithms.md §3).
    public var guidance: Double
    /// Network evaluations per image (guidance may double them).
    public var nfePerImage: Double?
    public var secondsPerImage: Double?

    public var fid: Double?
    public var featureExtractor: String?
    public var featureDimension: Int?
    /// Generated images behind the FID.
    public var sampleCount: Int?
    /// Images behind the reference statistics.
    public var referenceCount: Int?

    /// KID (mean and standard deviation over its subsets) in the FID's feature space.
    public var kid: Double?
    public var kidStd: Double?
    public var kidSubsets: Int?
    public var kidSubsetSize: Int?
    /// Seed-to-seed noise: the standard deviation of one seed's FID and KID across the seeds.
    public var fidSeedStd: Double?
    public var kidSeedStd: Double?

    public var clipScore: Double?
    public var embeddingModel: String?
    public var clipPairs: Int?

    /// Fraction (0…1) of generated images whose attributes (shape, colour, …) an evaluator
    /// network recognises as the ones the prompt asked for.
    public var attributeAccuracy: Double?
    /// Attribute name (shape, colour, size, position, background) → the fraction of generated
    /// images in which the evaluator reads that attribute as the prompt asked.
    public var attributeAccuracyByAttribute: [String: Double]?

    public init(model: String, artifact: String? = nil, kind: String, sampler: String, steps: Int, guidance: Double,
                nfePerImage: Double? = nil, secondsPerImage: Double? = nil) {
        self.model = model; self.artifact = artifact; self.kind = kind; self.sampler = sampler
        self.steps = steps; self.guidance = guidance; self.nfePerImage = nfePerImage; self.secondsPerImage = secondsPerImage
    }

    /// Records a Fréchet distance computed as `FrechetDistance.score(generated, reference)`.
    public mutating func record(fid s: FrechetScore) {
        fid = s.distance; featureExtractor = s.extractor; featureDimension = s.dimension
        sampleCount = s.countA; referenceCount = s.countB
    }

    /// Records a KID computed as `KernelInceptionDistance.score(generated:reference:…)`.
    public mutating func record(kid s: KIDScore) {
        kid = s.mean; kidStd = s.standardDeviation; kidSubsets = s.subsets; kidSubsetSize = s.subsetSize
        featureExtractor = featureExtractor ?? s.extractor; featureDimension = featureDimension ?? s.dimension
    }

    public mutating func record(seedNoise n: SeedNoise) {
        fidSeedStd = n.fidStandardDeviation; kidSeedStd = n.kidStandardDeviation
    }

    public mutating func record(clip s: CLIPScoreResult) {
        clipScore = s.score; embeddingModel = s.embeddingModel; clipPairs = s.pairs
    }

    /// True when the generated sample count does not exceed the feature dimension, so the
    /// sample covariance is rank-deficient and the FID unreliable.
    public var fidIsRankDeficient: Bool {
        guard let n = sampleCount, let d = featureDimension else { return false }
        return n <= d || (referenceCount.map { $0 <= d } ?? false)
    }

    /// Checks what a reader needs: finite numbers, and the provenance of every score.
    public func validate() throws {
        let name = "metrics for '\(model)'"
        guard steps >= 1 else { throw EvaluationError("\(name): steps must be at least 1, got \(steps)") }
        let numbers: [(String, Double?)] = [("guidance", guidance), ("nfe_per_image", nfePerImage),
                                            ("seconds_per_image", secondsPerImage), ("fid", fid),
                                            ("clip_score", clipScore), ("attribute_accuracy", attributeAccuracy),
                                            ("kid", kid), ("kid_std", kidStd), ("fid_seed_std", fidSeedStd),
                                            ("kid_seed_std", kidSeedStd)]
        for case let (field, v?) in numbers where !v.isFinite {
            throw EvaluationError("\(name): \(field) is not finite (\(v))")
        }
        if fid != nil, featureExtractor == nil || sampleCount == nil {
            throw EvaluationError("\(name): a FID needs its feature extractor and sample count")
        }
        if kid != nil, featureExtractor == nil || kidSubsetSize == nil {
            throw EvaluationError("\(name): a KID needs its feature extractor and subset size")
        }
        if clipScore != nil, embeddingModel == nil {
            throw EvaluationError("\(name): a CLIP score needs its embedding model")
        }
        if let a = attributeAccuracy, !(0...1).contains(a) {
            throw EvaluationError("\(name): attribute_accuracy must be in 0…1, got \(a)")
        }
        for (attribute, a) in attributeAccuracyByAttribute ?? [:] where !(0...1).contains(a) {
            throw EvaluationError("\(name): attribute accuracy of '\(attribute)' must be in 0…1, got \(a)")
        }
    }
}

/// The metrics JSON an evaluation writes: a title, when it was made, and one entry per
/// evaluated configuration. Keys are snake_case; absent scores are omitted.
public struct MetricsDocument: Codable, Equatable {
    public var title: String
    /// ISO 8601, UTC.
    public var createdAt: String
    public var entries: [EvaluationMetrics]

    public init(title: String, createdAt: Date = Date(), entries: [EvaluationMetrics]) {
        self.title = title
        self.createdAt = ISO8601DateFormatter().string(from: createdAt)
        self.entries = entries
    }

    public func jsonData() throws -> Data {
        for e in entries { try e.validate() }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(try jsonData(), to: url)
    }

    public static func read(_ url: URL) throws -> MetricsDocument {
        try decode(try AtomicFile.read(url), source: url.path)
    }

    /// A metrics document from its JSON bytes; `source` names it in the one-line error.
    public static func decode(_ data: Data, source: String) throws -> MetricsDocument {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(MetricsDocument.self, from: data) }
        catch let e as DecodingError { throw EvaluationError("\(source): not a metrics file (\(describe(e)))") }
    }

    private static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch e {
        case .keyNotFound(let k, let c): return "missing '\(k.stringValue)' at '\(path(c))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type at '\(path(c))'"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "invalid JSON" : "bad value at '\(path(c))'"
        @unknown default: return "invalid JSON"
        }
    }
}
