import Foundation
import Tensors

// The reductions the losses need (docs/algorithms.md §2 and §5). The batch is the first axis of
// the prediction: B examples of d = count / B values each. An optional per-example scale s_i
// multiplies the difference first: Δ_i = s_i · (prediction_i − target_i), e.g. s_i = 1/σ_t
// turns an x-space difference into the v-space difference of §5.
//   mean square:         L_i = mean_d Δ²                      dL_i/dpred = 2 s_i Δ / d
// (The pseudo-Huber loss of §5 lives in Diffusion/PseudoHuber.swift, beside the consistency step
// that uses it.)
// The batch loss is mean_i L_i; `gradient` is d(batch loss)/d(prediction).

public struct LossResult {
    /// mean_i L_i.
    public let value: Float
    /// L_i for each example.
    public let perExample: [Float]
    /// d value / d prediction, same shape as the prediction.
    public let gradient: Tensor
}

/// Mean squared difference (per example, then averaged over the batch).
public func meanSquareLoss(_ prediction: Tensor, _ target: Tensor, exampleScale: [Float]? = nil) -> LossResult {
    lossOverExamples(prediction, target, exampleScale, "mean square loss") { delta, grad, d, s in
        var total = 0.0
        for j in 0..<d { total += Double(delta[j]) * Double(delta[j]) }
        let coeff = 2 * s / Float(d)
        for j in 0..<d { grad[j] = coeff * delta[j] }
        return total / Double(d)
    }
}

/// Softmax cross-entropy over the classes of each row: logits [N, K], labels in 0..<K.
///   L_n = log Σ_k exp(z_k) − z_label,  dL_n/dz = softmax(z) − onehot(label);  value = mean_n L_n.
public func softmaxCrossEntropyLoss(_ logits: Tensor, labels: [Int]) -> LossResult {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count && logits.shape[0] > 0,
                 "cross-entropy: shape mismatch: logits \(logits.shape) vs \(labels.count) labels")
    let (n, k) = (logits.shape[0], logits.shape[1])
    let grad = softmaxForward(logits)
    var losses = [Float](repeating: 0, count: n)
    let gp = grad.data, zp = logits.data
    for r in 0..<n {
        let label = labels[r]
        precondition(label >= 0 && label < k, "cross-entropy: label \(label) outside 0..<\(k)")
        // log p_label = z_label − max − log Σ exp(z − max), in double for the log.
        let m = vmax(zp + r * k, k)
        var z = 0.0
        for j in 0..<k { z += Foundation.exp(Double(zp[r * k + j] - m)) }
        losses[r] = Float(Foundation.log(z) - Double(zp[r * k + label] - m))
        gp[r * k + label] -= 1
    }
    grad.scale(by: 1 / Float(n))
    return LossResult(value: losses.reduce(0, +) / Float(n), perExample: losses, gradient: grad)
}

/// Runs `perExample(Δ, gradOut, d, s)` for each example (Δ already scaled, in a scratch row);
/// it writes dL_i/dpred into gradOut and returns L_i. Gradients are then divided by B.
func lossOverExamples(_ prediction: Tensor, _ target: Tensor, _ exampleScale: [Float]?, _ op: String,
                      _ perExample: @escaping (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int, Float) -> Double)
    -> LossResult {
    checkSameShape(prediction, target, op)
    precondition(prediction.rank >= 1 && prediction.shape[0] > 0, "\(op): prediction needs a batch axis, got \(prediction.shape)")
    let b = prediction.shape[0], d = prediction.count / b
    if let exampleScale { precondition(exampleScale.count == b, "\(op): \(exampleScale.count) example scales for batch \(b)") }
    let grad = Tensor(uninitializedShape: prediction.shape)
    var losses = [Double](repeating: 0, count: b)
    let pp = prediction.data, tp = target.data, gp = grad.data
    let scales = exampleScale ?? [Float](repeating: 1, count: b)
    losses.withUnsafeMutableBufferPointer { lp in
        let l = lp.baseAddress!
        Parallel.forRanges(b, grain: max(1, 16384 / max(d, 1))) { range in
            let delta = UnsafeMutablePointer<Float>.allocate(capacity: d)
            defer { delta.deallocate() }
            for i in range {
                let s = scales[i]
                for j in 0..<d { delta[j] = s * (pp[i * d + j] - tp[i * d + j]) }
                l[i] = perExample(delta, gp + i * d, d, s)
            }
        }
    }
    let invB = 1 / Float(b)
    for i in 0..<grad.count { gp[i] *= invB }
    return LossResult(value: Float(losses.reduce(0, +) / Double(b)), perExample: losses.map(Float.init), gradient: grad)
}
