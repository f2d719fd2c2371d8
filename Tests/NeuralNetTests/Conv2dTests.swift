import Tensors
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

    /// Channel counts around the 6×16 register tile (partial and full tiles, several panels).
    func testForwardMatchesDirectConvolutionAcrossTileEdges() {
        for (ci, co) in [(7, 18), (16, 32), (13, 5), (64, 40)] { for k in [1, 3] {
            let x = randomTensor([3, 5, 6, ci], seed: 21), wt = randomTensor([k, k, ci, co], seed: 22, std: 0.3)
            let b = randomTensor([co], seed: 23)
            XCTAssertLessThan(maxDifference(conv2dForward(x, weight: wt, bias: b), naiveConv(x, wt, b)), 2e-4, "\(ci)→\(co) k\(k)")
        } }
    }

    func testResultsDoNotDependOnThreadCount() {
        let x = randomTensor([5, 6, 6, 10], seed: 11), w = randomTensor([3, 3, 10, 20], seed: 12), dy = randomTensor([5, 6, 6, 20], seed: 13)
        let saved = Parallel.maxChunks
        defer { Parallel.maxChunks = saved }
        func run() -> ([Float], [Float], [Float]) {
            let gw = Tensor(shape: w.shape)
            let dx = conv2dBackward(dy, x: x, weight: w, weightGrad: gw, biasGrad: nil)
            return (conv2dForward(x, weight: w, bias: nil).toArray(), dx.toArray(), gw.toArray())
        }
        Parallel.maxChunks = 1
        let one = run()
        Parallel.maxChunks = 2
        let two = run()
        XCTAssertEqual(one.0, two.0)
        XCTAssertEqual(one.1, two.1)
        for (a, b) in zip(one.2, two.2) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a))) }
    }

    func testGradients3x3() {
        for (ci, co) in [(3, 2), (7, 18)] {
            let x = randomTensor([2, 4, 5, ci], seed: 4), w = randomTensor([3, 3, ci, co], seed: 5, std: 0.5), b = randomTensor([co], seed: 6)
            GradCheck().check("conv2d 3×3 \(ci)→\(co)", inputs: [x, w, b], forward: { conv2dForward(x, weight: w, bias: b) }) { dy in
                let gw = Tensor(shape: w.shape), gb = Tensor(shape: b.shape)
                return [conv2dBackward(dy, x: x, weight: w, weightGrad: gw, biasGrad: gb), gw, gb]
            }
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
