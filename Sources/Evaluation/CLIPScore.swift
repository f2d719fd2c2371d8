import Foundation
import Tensors

/// A CLIP score with the embedding model it was measured in and the number of pairs.
public struct CLIPScoreResult: Codable, Equatable {
    public let score: Double
    public let pairs: Int
    public let embeddingModel: String
}

/// CLIP score over (image, prompt) pairs (docs/algorithms.md §7):
///
///     CLIPScore = max( mean_i 100 · cos(e_image_i, e_text_i), 0 )
///
/// with each embedding L2-normalised first, and the clamp applied after the mean, as
/// torchmetrics computes it (a set whose pairs are on average anti-aligned scores 0, but one
/// anti-aligned pair only lowers the mean). Sums in double precision.
public enum CLIPScore {
    /// `images` and `texts` are [N, E] embeddings; row i of each forms pair i.
    public static func compute(images: Tensor, texts: Tensor, embeddingModel: String) throws -> CLIPScoreResult {
        guard images.rank == 2, texts.rank == 2, images.shape == texts.shape else {
            throw EvaluationError("CLIP score: image embeddings \(images.shape) and text embeddings \(texts.shape) must both be [N, E]")
        }
        return try compute(images: UnsafeBufferPointer(images.buffer), texts: UnsafeBufferPointer(texts.buffer),
                           pairs: images.shape[0], width: images.shape[1], embeddingModel: embeddingModel)
    }

    /// Row-major [pairs, width] embeddings.
    public static func compute(images: UnsafeBufferPointer<Float>, texts: UnsafeBufferPointer<Float>,
                               pairs: Int, width: Int, embeddingModel: String) throws -> CLIPScoreResult {
        guard pairs > 0, width > 0 else { throw EvaluationError("CLIP score needs at least one pair of non-empty embeddings") }
        guard images.count == pairs * width, texts.count == pairs * width else {
            throw EvaluationError("CLIP score: \(images.count) image and \(texts.count) text values do not form \(pairs) pairs of width \(width)")
        }
        var total = 0.0
        for i in 0..<pairs {
            var dot = 0.0, ii = 0.0, tt = 0.0
            for j in (i * width)..<((i + 1) * width) {
                let a = Double(images[j]), b = Double(texts[j])
                dot += a * b; ii += a * a; tt += b * b
            }
            guard ii > 0, tt > 0, ii.isFinite, tt.isFinite, dot.isFinite else {
                throw EvaluationError("CLIP score: pair \(i) has a zero or non-finite embedding")
            }
            total += 100 * dot / (ii.squareRoot() * tt.squareRoot())
        }
        return CLIPScoreResult(score: max(total / Double(pairs), 0), pairs: pairs, embeddingModel: embeddingModel)
    }
}
