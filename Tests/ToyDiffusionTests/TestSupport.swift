import Foundation
import Tensors

/// A [shape] tensor of N(0, 1) draws from `seed`.
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    let t = Tensor(shape: shape)
    CounterRNG(seed: seed).fillNormal(t.buffer, stream: 99)
    return t
}

func fmt(_ xs: [Double], _ digits: Int = 4) -> String { "[" + xs.map { String(format: "%.\(digits)f", $0) }.joined(separator: ", ") + "]" }
func fmt(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
