import Tensors

/// A [shape] tensor of N(0, 1) draws from `seed`.
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    let t = Tensor(shape: shape)
    CounterRNG(seed: seed).fillNormal(t.buffer, stream: 99)
    return t
}
