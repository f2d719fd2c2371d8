import Foundation
import Models

/// What a person (or a `train-teacher` job's JSON spec) may set for a teacher run; everything
/// left out takes the preset's default (`TeacherTrainingConfig.defaults(preset:)`).
///
/// JSON keys: `preset`, `resolution`, `dataset`, `iterations`, `batch`, `lr`, `p_uncond`,
/// `ema_decay`, `seed`, `checkpoint_every`, and for image folders `heldout`, `caption_key`,
/// `min_word_count`. Unknown keys are an error, so a misspelt setting never passes silently.
public struct TeacherTrainingSpec: Codable, Equatable, Sendable {
    public var preset: String?
    public var dataset: String?
    public var iterations: Int?
    public var batch: Int?
    public var lr: Double?
    public var pUncond: Double?
    public var emaDecay: Double?
    public var seed: UInt64?
    public var checkpointEvery: Int?
    public var resolution: Int?
    public var heldout: Double?
    public var captionKey: String?
    public var minWordCount: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case preset, dataset, iterations, batch, lr, seed, resolution, heldout
        case pUncond = "p_uncond", emaDecay = "ema_decay", checkpointEvery = "checkpoint_every"
        case captionKey = "caption_key", minWordCount = "min_word_count"
    }

    public init(preset: String? = nil, dataset: String? = nil, iterations: Int? = nil, batch: Int? = nil, lr: Double? = nil,
                pUncond: Double? = nil, emaDecay: Double? = nil, seed: UInt64? = nil, checkpointEvery: Int? = nil,
                resolution: Int? = nil, heldout: Double? = nil, captionKey: String? = nil, minWordCount: Int? = nil) {
        self.preset = preset; self.dataset = dataset; self.iterations = iterations; self.batch = batch; self.lr = lr
        self.pUncond = pUncond; self.emaDecay = emaDecay; self.seed = seed; self.checkpointEvery = checkpointEvery
        self.resolution = resolution; self.heldout = heldout; self.captionKey = captionKey; self.minWordCount = minWordCount
    }

    /// The full config: the preset's defaults with this spec's settings applied, validated.
    /// Setting `lr` moves the cosine decay's floor with it (to lr / 10).
    public func resolved() throws -> TeacherTrainingConfig {
        var c = try TeacherTrainingConfig.defaults(preset: preset ?? "small", resolution: resolution)
        if let dataset { c.dataset = dataset }
        if let iterations { c.iterations = iterations }
        if let batch { c.batchSize = batch }
        if let lr { c.learningRate = Float(lr); c.finalLearningRate = Float(lr) / 10 }
        if let pUncond { c.pUncond = pUncond }
        if let emaDecay { c.emaDecay = Float(emaDecay) }
        if let seed { c.seed = seed }
        if let checkpointEvery { c.checkpointEvery = checkpointEvery }
        c.heldout = heldout; c.captionKey = captionKey; c.minWordCount = minWordCount
        try c.validate()
        return c
    }

    /// Parses a JSON object spec; errors name the offending key.
    public static func decode(json: String) throws -> TeacherTrainingSpec {
        let data = Data(json.utf8)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError("train-teacher spec: not a JSON object")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModelError("train-teacher spec: unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        do { return try JSONDecoder().decode(TeacherTrainingSpec.self, from: data) } catch let DecodingError.typeMismatch(_, context) {
            throw ModelError("train-teacher spec: '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw ModelError("train-teacher spec: \(error)")
        }
    }
}
