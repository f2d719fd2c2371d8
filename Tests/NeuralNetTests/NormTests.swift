import Tensors
import XCTest
@testable import NeuralNet

final class NormTests: XCTestCase {
    func testGroupNormForwardMatchesNaive() {
        let (b, n, c, g) = (3, 6, 8, 4)
        let x = randomTensor([b, 2, 3, c], seed: 1, std: 3)
        for i in 0..<x.count { x[i] += 5 }          // a large mean tests the two-pass variance
        let gamma = randomTensor([c], seed: 2), beta = randomTensor([c], seed: 3)
        let (y, stats) = groupNormForward(x, groups: g, gamma: gamma, beta: beta, eps: 1e-5)
        var ref = [Double](repeating: 0, count: x.count)
        let cg = c / g
        for e in 0..<b { for grp in 0..<g {
            var vals = [Double]()
            for i in 0..<n { for ch in (grp * cg)..<((grp + 1) * cg) { vals.append(Double(x[(e * n + i) * c + ch])) } }
            let mu = vals.reduce(0, +) / Double(vals.count)
            let v = vals.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(vals.count)
            XCTAssertEqual(Double(stats.mean[e * g + grp]), mu, accuracy: 1e-4)
            for i in 0..<n { for ch in (grp * cg)..<((grp + 1) * cg) {
                let idx = (e * n + i) * c + ch
                ref[idx] = (Double(x[idx]) - mu) / (v + 1e-5).squareRoot() * Double(gamma[ch]) + Double(beta[ch])
            } }
        } }
        XCTAssertLessThan(maxDifference(y, ref), 1e-4)
    }

    func testGroupNormGradients() {
        let x = randomTensor([2, 3, 2, 6], seed: 4), gamma = randomTensor([6], seed: 5), beta = randomTensor([6], seed: 6)
        GradCheck().check("group norm", inputs: [x, gamma, beta],
                          forward: { groupNormForward(x, groups: 3, gamma: gamma, beta: beta).y }) { dy in
            let (_, stats) = groupNormForward(x, groups: 3, gamma: gamma, beta: beta)
            let gg = Tensor(shape: [6]), gb = Tensor(shape: [6])
            return [groupNormBackward(dy, x: x, stats: stats, groups: 3, gamma: gamma, gammaGrad: gg, betaGrad: gb), gg, gb]
        }
    }

    func testGroupNormWithFusedSiLU() {
        let x = randomTensor([2, 3, 3, 8], seed: 13), gamma = randomTensor([8], seed: 14), beta = randomTensor([8], seed: 15)
        let fused = groupNormForward(x, groups: 4, gamma: gamma, beta: beta, silu: true).y
        let separate = siluForward(groupNormForward(x, groups: 4, gamma: gamma, beta: beta).y)
        XCTAssertLessThan(maxDifference(fused, separate.toArray().map(Double.init)), 1e-6)
        GradCheck().check("group norm + SiLU", inputs: [x, gamma, beta],
                          forward: { groupNormForward(x, groups: 4, gamma: gamma, beta: beta, silu: true).y }) { dy in
            let (_, stats) = groupNormForward(x, groups: 4, gamma: gamma, beta: beta, silu: true)
            let gg = Tensor(shape: [8]), gb = Tensor(shape: [8])
            let dx = groupNormBackward(dy, x: x, stats: stats, groups: 4, gamma: gamma, beta: beta,
                                       gammaGrad: gg, betaGrad: gb, silu: true)
            return [dx, gg, gb]
        }
    }

    func testLayerNormForwardMatchesNaive() {
        let x = randomTensor([4, 7], seed: 7, std: 2), gamma = randomTensor([7], seed: 8), beta = randomTensor([7], seed: 9)
        let (y, _) = layerNormForward(x, gamma: gamma, beta: beta, eps: 1e-5)
        var ref = [Double]()
        for r in 0..<4 {
            let row = (0..<7).map { Double(x[r * 7 + $0]) }
            let mu = row.reduce(0, +) / 7, v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 7
            for j in 0..<7 { ref.append((row[j] - mu) / (v + 1e-5).squareRoot() * Double(gamma[j]) + Double(beta[j])) }
        }
        XCTAssertLessThan(maxDifference(y, ref), 1e-5)
    }

    func testLayerNormGradients() {
        let x = randomTensor([2, 3, 10], seed: 10), gamma = randomTensor([10], seed: 11), beta = randomTensor([10], seed: 12)
        GradCheck().check("layer norm", inputs: [x, gamma, beta],
                          forward: { layerNormForward(x, gamma: gamma, beta: beta).y }) { dy in
            let (_, stats) = layerNormForward(x, gamma: gamma, beta: beta)
            let gg = Tensor(shape: [10]), gb = Tensor(shape: [10])
            return [layerNormBackward(dy, x: x, stats: stats, gamma: gamma, gammaGrad: gg, betaGrad: gb), gg, gb]
        }
    }
}
