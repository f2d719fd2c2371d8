import Foundation
import NeuralNet
import Tensors

/// CLIP's symmetric contrastive loss with a learned temperature (Radford et al., 2021), on a
/// batch of B matching (image, text) pairs with L2-normalised embeddings I, T [B, E] and the
/// log logit scale s (temperature τ = e^(−s)):
///
///     L = e^s · I Tᵀ                                      [B, B], row i = image i vs every text
///     loss = ½ (CE_rows(L) + CE_columns(L)),   target of row/column i is i
///
/// where CE averages `log Σ_j exp L_ij − L_ii` over rows. With G = dloss/dL (half the row
/// softmax-minus-identity of L, half the column one, each divided by B):
///
///     dI = e^s · G T,    dT = e^s · Gᵀ I,    ds = Σ_ij G_ij L_ij
///
/// The batch must not hold two pairs with the same caption (their texts would be each other's
/// false negatives); `EvaluatorTrainer` draws distinct scenes per batch.
public enum ContrastiveLoss {
    public struct Result {
        public let loss: Float
        public let dImages: Tensor
        public let dTexts: Tensor
        public let dLogScale: Float
        /// Fraction of rows whose largest logit is their own text (in-batch image→text top-1).
        public let accuracy: Double
    }

    public static func compute(images: Tensor, texts: Tensor, logScale s: Float) -> Result {
        precondition(images.rank == 2 && images.shape == texts.shape && images.shape[0] > 0,
                     "contrastive loss: embeddings \(images.shape) and \(texts.shape) must both be [B, E]")
        let b = images.shape[0]
        let scale = Foundation.exp(s)
        let logits = Tensor(shape: [b, b])
        BLAS.matmul(images, texts, into: logits, transB: true, alpha: scale)
        let transposed = Tensor(uninitializedShape: [b, b])
        for i in 0..<b { for j in 0..<b { transposed.data[j * b + i] = logits.data[i * b + j] } }
        let diagonal = Array(0..<b)
        let rows = softmaxCrossEntropyLoss(logits, labels: diagonal)
        let columns = softmaxCrossEntropyLoss(transposed, labels: diagonal)
        let g = Tensor(uninitializedShape: [b, b])
        var ds = 0.0
        var correct = 0
        for i in 0..<b {
            var best = 0
            for j in 0..<b {
                let v = 0.5 * (rows.gradient.data[i * b + j] + columns.gradient.data[j * b + i])
                g.data[i * b + j] = v
                ds += Double(v) * Double(logits.data[i * b + j])
                if logits.data[i * b + j] > logits.data[i * b + best] { best = j }
            }
            if best == i { correct += 1 }
        }
        let dI = Tensor(shape: images.shape), dT = Tensor(shape: texts.shape)
        BLAS.matmul(g, texts, into: dI, alpha: scale)
        BLAS.matmul(g, images, into: dT, transA: true, alpha: scale)
        return Result(loss: 0.5 * (rows.value + columns.value), dImages: dI, dTexts: dT, dLogScale: Float(ds),
                      accuracy: Double(correct) / Double(b))
    }
}
