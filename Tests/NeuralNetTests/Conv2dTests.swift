import XCTest
@testable import NeuralNet

final class Conv2dTests: XCTestCase {
    /// Direct convolution in double precision: y(b,i,j,o) = b_o + Σ x(b,i+ky−p,j+kx−p,c)·W(ky,kx,c,o).
    func naiveConv(_ x: Tensor, _ w: Tensor, _ bias: Tensor) -> [Double] {
        let (b, h, wd, ci) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let k = w.shape[0], co = w.shape[3], pad = k / 2
        var out = [Double](repeating: 0, count: b * h * wd * co)
        for e in 0..<b { for i in 0..<h { for j in 0..<wd { for o in 0..<co {
            var s = Double(bias[o])
            for ky in 0..<k { for kx in 0..<k {
                let y = i + ky - pad, xx = j + kx - pad
                if y < 0 || y >= h || xx < 0 || xx >= wd { continue }
                for c in 0..<ci { s += Double(x[((e * h + y) * wd + xx) * ci + c]) * Double(w[((ky * k + kx) * ci + c) * co + o]) }
            } }
            out[((e * h + i) * wd + j) * co + o] = s
        } } } }
        return out
    }

    func testForwardMatchesDirectConvolution() {
        // Includes one-pixel-wide and one-pixel-high images (every tap at an edge).
        for k in [1, 3] { for (h, w) in [(5, 4), (1, 3), (3, 1), (1, 1)] {
            let x = randomTensor([2, h, w, 3], seed: 1), wt = randomTensor([k, k, 3, 4], seed: 2), b = randomTensor([4], seed: 3)
            let y = conv2dForward(x, weight: wt, bias: b)
            XCTAssertEqual(y.shape, [2, h, w, 4])
            XCTAssertLessThan(maxDifference(y, naiveConv(x, wt, b)), 1e-4, "kernel \(k), \(h)×\(w)")
        } }
    }

    func testForwardIsIndependentOfChunking() {
        let x = randomTensor([5, 6, 6, 4], seed: 11), w = randomTensor([3, 3, 4, 3], seed: 12)
        let saved = Conv2dTuning.chunkFloats
        defer { Conv2dTuning.chunkFloats = saved }
        Conv2dTuning.chunkFloats = 1              // one image per chunk
        let chunked = conv2dForward(x, weight: w, bias: nil)
        Conv2dTuning.chunkFloats = 1 << 24        // the whole batch at once
        let whole = conv2dForward(x, weight: w, bias: nil)
        XCTAssertEqual(chunked.toArray(), whole.toArray())
    }

    func testGradients3x3() {
        let x = randomTensor([2, 4, 5, 3], seed: 4), w = randomTensor([3, 3, 3, 2], seed: 5), b = randomTensor([2], seed: 6)
        let saved = Conv2dTuning.chunkFloats
        defer { Conv2dTuning.chunkFloats = saved }
        Conv2dTuning.chunkFloats = 1              // exercise chunked accumulation of dW
        GradCheck().check("conv2d 3×3", inputs: [x, w, b], forward: { conv2dForward(x, weight: w, bias: b) }) { dy in
            let gw = Tensor(shape: w.shape), gb = Tensor(shape: b.shape)
            return [conv2dBackward(dy, x: x, weight: w, weightGrad: gw, biasGrad: gb), gw, gb]
        }
    }

    func testGradients1x1() {
        let x = randomTensor([2, 3, 3, 4], seed: 7), w = randomTensor([1, 1, 4, 3], seed: 8), b = randomTensor([3], seed: 9)
        GradCheck().check("conv2d 1×1", inputs: [x, w, b], forward: { conv2dForward(x, weight: w, bias: b) }) { dy in
            let gw = Tensor(shape: w.shape), gb = Tensor(shape: b.shape)
            return [conv2dBackward(dy, x: x, weight: w, weightGrad: gw, biasGrad: gb), gw, gb]
        }
    }
}
