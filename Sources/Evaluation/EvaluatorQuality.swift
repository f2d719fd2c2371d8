import Datasets
import Foundation
import Tensors
import Models

/// How good the judge is, measured on fresh renders of the held-out prompts (Prompts/heldout.txt)
/// whose jitter comes from a stream training never draws from:
///
/// * attribute accuracy — per attribute, the fraction of pictures whose class the classifier's
///   head reads correctly; `allAttributes`, the fraction with all five right;
/// * text→image retrieval top-1 — for each of the P held-out captions, whether its own picture
///   has the highest cosine similarity among the P pictures of one render set (one picture per
///   caption), averaged over the render sets. Chance is 1/P.
public struct EvaluatorQuality: Codable, SortedJSONEncodable, Equatable, Sendable {
    /// Attribute name → accuracy in 0…1.
    public var attributeAccuracy: [String: Double]
    /// nil for a folder evaluator (it reads no attributes).
    public var allAttributes: Double?
    public var retrievalTop1: Double
    public var prompts: Int
    public var rendersPerPrompt: Int
    /// A folder evaluator's: which split of its dataset retrieval was measured on.
    public var split: String?

    /// Philox key of the quality renders: distinct from any training seed's stream by construction
    /// (training renders use the seed itself).
    static func renderSeed(_ seed: UInt64) -> UInt64 { seed ^ 0x5155_414C_4954_5900 }

    /// Measures `evaluator` on `renders` render sets of the held-out prompts.
    public static func measure(_ evaluator: Evaluator, renders: Int = 10) throws -> EvaluatorQuality {
        let scenes = ShapesWorld.heldOutPromptScenes
        let p = scenes.count, r = evaluator.resolution
        let rng = CounterRNG(seed: renderSeed(evaluator.config.seed))
        let images = Tensor(shape: [renders * p, r, r, 3])
        for k in 0..<renders {
            for (j, s) in scenes.enumerated() {
                let i = k * p + j
                ShapesRenderer.render(s, resolution: r, rng: rng, index: UInt64(i)).write(into: images.data + i * r * r * 3)
            }
        }
        let predicted = try evaluator.predict(images)
        var correct = [Int](repeating: 0, count: SceneAttribute.allCases.count), all = 0
        for (i, labels) in predicted.enumerated() {
            let truth = scenes[i % p]
            var ok = true
            for a in SceneAttribute.allCases {
                if labels[a] == truth[a] { correct[a.rawValue] += 1 } else { ok = false }
            }
            if ok { all += 1 }
        }
        let n = Double(renders * p)
        var accuracy: [String: Double] = [:]
        for a in SceneAttribute.allCases { accuracy[a.description] = Double(correct[a.rawValue]) / n }

        let texts = evaluator.textEmbeddings(scenes.map(\.caption))
        let pictures = try evaluator.imageEmbeddings(images)
        let e = evaluator.config.embeddingWidth
        var hits = 0
        for k in 0..<renders {
            for q in 0..<p {
                var best = 0, bestScore = -Float.infinity
                for j in 0..<p {
                    var dot: Float = 0
                    let a = texts.data + q * e, b = pictures.data + (k * p + j) * e
                    for c in 0..<e { dot += a[c] * b[c] }
                    if dot > bestScore { bestScore = dot; best = j }
                }
                if best == q { hits += 1 }
            }
        }
        return EvaluatorQuality(attributeAccuracy: accuracy, allAttributes: Double(all) / n,
                                retrievalTop1: Double(hits) / n, prompts: p, rendersPerPrompt: renders)
    }

    /// Text→image retrieval top-1 of a folder evaluator over `groups`: set k holds picture k of
    /// every caption (k < min(`sets`, the fewest pictures of a caption)); for each caption, a hit
    /// when its own picture is the nearest of the set. Chance is 1/C.
    public static func measure(_ evaluator: Evaluator, groups: CaptionGroups, split: String, sets: Int = 10) throws -> EvaluatorQuality {
        let c = groups.captions.count
        guard c >= 2 else { throw EvaluationError("retrieval needs at least 2 distinct captions in the \(split) split, got \(c)") }
        let k = min(sets, groups.members.map(\.count).min()!)
        let texts = evaluator.textEmbeddings(groups.captions)
        let e = evaluator.config.embeddingWidth
        var hits = 0
        for set in 0..<k {
            let pictures = try evaluator.imageEmbeddings(groups.tensor(groups.members.map { $0[set] }, resolution: evaluator.resolution))
            hits += Self.hits(texts: texts, pictures: pictures, count: c, width: e)
        }
        return EvaluatorQuality(attributeAccuracy: [:], allAttributes: nil, retrievalTop1: Double(hits) / Double(c * k),
                                prompts: c, rendersPerPrompt: k, split: split)
    }

    /// Captions q whose own picture (row q) is the nearest of the `count` pictures.
    static func hits(texts: Tensor, pictures: Tensor, count p: Int, width e: Int, pictureOffset: Int = 0) -> Int {
        var hits = 0
        for q in 0..<p {
            var best = 0, bestScore = -Float.infinity
            for j in 0..<p {
                var dot: Float = 0
                let a = texts.data + q * e, b = pictures.data + (pictureOffset + j) * e
                for c in 0..<e { dot += a[c] * b[c] }
                if dot > bestScore { bestScore = dot; best = j }
            }
            if best == q { hits += 1 }
        }
        return hits
    }

    /// "shape 99.8%, colour 100.0%, …; all five 99.5%; retrieval top-1 97.0% (40 prompts × 10)".
    public var summary: String {
        func pct(_ v: Double) -> String { String(format: "%.1f%%", 100 * v) }
        guard let allAttributes else {
            return "text→image retrieval top-1 \(pct(retrievalTop1)) among \(prompts) captions of the \(split ?? "?") split (chance \(pct(1 / Double(max(prompts, 1))))) × \(rendersPerPrompt) picture sets"
        }
        let parts = SceneAttribute.allCases.map { "\($0) \(pct(attributeAccuracy[$0.description] ?? 0))" }
        return parts.joined(separator: ", ") + "; all five \(pct(allAttributes)); text→image retrieval top-1 \(pct(retrievalTop1))"
            + " (\(prompts) held-out prompts × \(rendersPerPrompt) renders)"
    }
}
