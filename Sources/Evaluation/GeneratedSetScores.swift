import Datasets
import Foundation
import Tensors

/// What the evaluator says about a set of pictures drawn for known prompts (docs/algorithms.md §7):
/// the Fréchet distance of their features to a reference set's, the CLIP score of (picture,
/// prompt) pairs, and attribute accuracy — the fraction of pictures in which the classifier
/// reads all five attributes the prompt asked for (and the fraction per attribute). Given the
/// reference's features themselves (not only their statistics), also the KID in the same
/// feature space.
public struct GeneratedSetScores {
    public let fid: FrechetScore
    /// Present when `compute` was given `referenceFeatures`.
    public let kid: KIDScore?
    /// The evaluator's features of the pictures [N, D] (row i is picture i), e.g. for `SeedNoise`.
    public let features: Tensor
    public let clip: CLIPScoreResult
    /// nil when the evaluator reads no attributes (a folder evaluator) or no scenes were given.
    public let attributeAccuracy: Double?
    public let perAttribute: [String: Double]?

    /// `images` [N, R, R, 3] in [−1, 1]; picture i was drawn for `prompts[i]`, whose scene is
    /// `scenes[i]`. `extractor` names the feature space (it must match the reference's);
    /// `embeddingModel` the CLIP (default: the evaluator's own name for it). `referenceFeatures`
    /// (the rows `reference` was computed from) adds the KID with `kidSubsets` subsets seeded by `kidSeed`.
    public static func compute(_ evaluator: Evaluator, images: Tensor, prompts: [String], scenes: [SceneLabels]?,
                               reference: FeatureStatistics, extractor: String,
                               embeddingModel: String? = nil, referenceFeatures: Tensor? = nil,
                               kidSubsets: Int = KernelInceptionDistance.defaultSubsets,
                               kidSeed: UInt64 = 0) throws -> GeneratedSetScores {
        let n = images.shape.first ?? 0
        guard n >= 2, prompts.count == n, scenes.map({ $0.count == n }) ?? true else {
            throw EvaluationError("scoring needs at least 2 pictures, each with its prompt and scene (\(n) pictures, \(prompts.count) prompts, \(scenes?.count ?? 0) scenes)")
        }
        let features = try evaluator.features(images)
        let stats = try FeatureStatistics(features: features, extractor: extractor)
        let fid = try FrechetDistance.score(stats, reference)
        let kid = try referenceFeatures.map {
            try KernelInceptionDistance.score(generated: features, reference: $0, subsets: kidSubsets, seed: kidSeed,
                                              extractor: extractor)
        }

        // Each distinct prompt is encoded once.
        var firstIndex: [String: Int] = [:]
        var distinct: [String] = []
        for p in prompts where firstIndex[p] == nil { firstIndex[p] = distinct.count; distinct.append(p) }
        let textTable = evaluator.textEmbeddings(distinct)
        let e = evaluator.config.embeddingWidth
        let texts = Tensor(shape: [n, e])
        for (i, p) in prompts.enumerated() { (texts.data + i * e).update(from: textTable.data + firstIndex[p]! * e, count: e) }
        let clip = try CLIPScore.compute(images: try evaluator.imageEmbeddings(images), texts: texts,
                                         embeddingModel: embeddingModel ?? evaluator.embeddingModel)

        guard let scenes, evaluator.readsAttributes else {
            return GeneratedSetScores(fid: fid, kid: kid, features: features, clip: clip, attributeAccuracy: nil, perAttribute: nil)
        }
        let predicted = try evaluator.predict(images)
        var all = 0
        var correct = [Int](repeating: 0, count: SceneAttribute.allCases.count)
        for (i, labels) in predicted.enumerated() {
            var ok = true
            for a in SceneAttribute.allCases {
                if labels[a] == scenes[i][a] { correct[a.rawValue] += 1 } else { ok = false }
            }
            if ok { all += 1 }
        }
        var per: [String: Double] = [:]
        for a in SceneAttribute.allCases { per[a.description] = Double(correct[a.rawValue]) / Double(n) }
        return GeneratedSetScores(fid: fid, kid: kid, features: features, clip: clip, attributeAccuracy: Double(all) / Double(n), perAttribute: per)
    }
}

/// Real pictures for the reference side of the FID: `perPrompt` renders of each scene, render
/// (k, j) — copy k of scene j — with jitter index k·P + j of `CounterRNG(seed)`. Row k·P + j.
public enum ReferenceRenders {
    public static func render(_ scenes: [SceneLabels], perPrompt: Int, resolution r: Int, seed: UInt64) -> Tensor {
        let p = scenes.count
        let out = Tensor(shape: [perPrompt * p, r, r, 3])
        let rng = CounterRNG(seed: seed)
        for k in 0..<perPrompt {
            for (j, s) in scenes.enumerated() {
                let i = k * p + j
                ShapesRenderer.render(s, resolution: r, rng: rng, index: UInt64(i)).write(into: out.data + i * r * r * 3)
            }
        }
        return out
    }
}
