import Tensors
import XCTest
import NeuralNet

// Finite-difference gradient checks, tinygrad style: the same inputs through the op's
// forward (perturbed, central differences, loss accumulated in float64) and through its
// analytic backward, compared with stated tolerances |analytic − numeric| ≤ atol + rtol·|numeric|.

/// Random tensor with entries N(0, std²) from a fixed seed.
func randomTensor(_ shape: [Int], seed: UInt64, stream: UInt64 = 0, std: Float = 1) -> Tensor {
    let t = Tensor(shape: shape)
    CounterRNG(seed: seed).fillNormal(t.buffer, stream: stream)
    if std != 1 { t.scale(by: std) }
    return t
}

struct GradCheck {
    var eps: Float = 1e-2
    var atol: Double = 2e-3
    var rtol: Double = 1e-2
    /// At most this many coordinates per input are probed (all of them for small inputs).
    var maxProbes = 48

    /// `forward` must be a pure function of the current contents of `inputs`; `backward(dOut)`
    /// returns the gradient of Σ out·dOut with respect to each input, in order.
    /// The loss is L = Σ out ∘ R for a fixed random R, so every output element matters.
    func check(_ label: String, inputs: [Tensor], forward: () -> Tensor, backward: (Tensor) -> [Tensor],
               file: StaticString = #filePath, line: UInt = #line) {
        let out = forward()
        let r = randomTensor(out.shape, seed: 999, stream: 5)
        let grads = backward(r)
        XCTAssertEqual(grads.count, inputs.count, "\(label): gradient count", file: file, line: line)
        func loss() -> Double {
            let o = forward()
            var s = 0.0
            for i in 0..<o.count { s += Double(o[i]) * Double(r[i]) }
            return s
        }
        var worst = 0.0
        for (k, (x, g)) in zip(inputs, grads).enumerated() {
            XCTAssertEqual(g.shape, x.shape, "\(label): gradient \(k) shape", file: file, line: line)
            let probes = x.count <= maxProbes ? Array(0..<x.count)
                : (0..<maxProbes).map { CounterRNG(seed: 7).integer(below: x.count, stream: UInt64(k), index: UInt64($0)) }
            for i in probes {
                let saved = x[i]
                x[i] = saved + eps; let plus = loss()
                x[i] = saved - eps; let minus = loss()
                x[i] = saved
                let numeric = (plus - minus) / (2 * Double(eps))
                let analytic = Double(g[i])
                let err = abs(analytic - numeric)
                worst = max(worst, err / (atol + rtol * abs(numeric)))
                if err > atol + rtol * abs(numeric) {
                    XCTFail("\(label): input \(k) index \(i): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
                    return
                }
            }
        }
        // Printed like llm.c's checks: the worst error as a fraction of the tolerance.
        print("gradcheck \(label): worst error \(String(format: "%.3f", worst)) of tolerance")
    }
}

/// Max |a − b| over two tensors of one shape.
func maxDifference(_ a: Tensor, _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var m = 0.0
    for i in 0..<a.count { m = max(m, abs(Double(a[i]) - b[i])) }
    return m
}
