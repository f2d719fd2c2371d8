import Tensors
import XCTest
@testable import NeuralNet

final class ElementwiseTests: XCTestCase {
    func testBroadcastForward() {
        let x = randomTensor([2, 3, 4], seed: 1)
        let perExample = randomTensor([2, 1, 4], seed: 2), table = randomTensor([3, 4], seed: 3), scalar = Tensor(shape: [1], values: [2])
        let a = broadcastAdd(x, perExample), m = broadcastMul(x, table), s = broadcastMul(x, scalar)
        for e in 0..<2 { for t in 0..<3 { for c in 0..<4 {
            let i = (e * 3 + t) * 4 + c
            XCTAssertEqual(a[i], x[i] + perExample[e * 4 + c])
            XCTAssertEqual(m[i], x[i] * table[t * 4 + c])
            XCTAssertEqual(s[i], 2 * x[i])
        } } }
    }

    func testBroadcastGradients() {
        let x = randomTensor([2, 3, 2, 4], seed: 4)
        for yShape in [[2, 3, 2, 4], [2, 1, 1, 4], [3, 2, 4], [1, 3, 1, 1], [4]] {
            let y = randomTensor(yShape, seed: 5)
            GradCheck().check("add \(yShape)", inputs: [x, y], forward: { broadcastAdd(x, y) }) { dy in
                let g = broadcastAddBackward(dy, yShape: y.shape); return [g.dx, g.dy]
            }
            GradCheck().check("mul \(yShape)", inputs: [x, y], forward: { broadcastMul(x, y) }) { dy in
                let g = broadcastMulBackward(dy, x: x, y: y); return [g.dx, g.dy]
            }
        }
        GradCheck().check("scale", inputs: [x], forward: { scaled(x, by: -1.5) }) { [scaled($0, by: -1.5)] }
    }

    func testPoolUpsampleConcatGradients() {
        let x = randomTensor([2, 4, 6, 3], seed: 6)
        let pooled = avgPool2x2Forward(x)
        XCTAssertEqual(pooled.shape, [2, 2, 3, 3])
        XCTAssertEqual(pooled[0], 0.25 * (x[0] + x[3] + x[18] + x[21]), accuracy: 1e-6)
        GradCheck().check("avg pool", inputs: [x], forward: { avgPool2x2Forward(x) }) { [avgPool2x2Backward($0, inputShape: x.shape)] }
        let up = upsample2xForward(x)
        XCTAssertEqual(up.shape, [2, 8, 12, 3])
        XCTAssertEqual(up[((1 * 8 + 5) * 12 + 7) * 3 + 2], x[((1 * 4 + 2) * 6 + 3) * 3 + 2])
        GradCheck().check("upsample", inputs: [x], forward: { upsample2xForward(x) }) { [upsample2xBackward($0, inputShape: x.shape)] }
        let y = randomTensor([2, 4, 6, 5], seed: 7)
        let cat = concatLastAxis([x, y])
        XCTAssertEqual(cat.shape, [2, 4, 6, 8])
        XCTAssertEqual(cat[8 + 4], y[5 + 1])
        GradCheck().check("concat", inputs: [x, y], forward: { concatLastAxis([x, y]) }) { splitLastAxis($0, widths: [3, 5]) }
    }

    func testSpaceToDepthRoundTripAndGradients() {
        let x = randomTensor([2, 4, 6, 3], seed: 11)
        let d = spaceToDepth2x2(x)
        XCTAssertEqual(d.shape, [2, 2, 3, 12])
        // Patch (i=1, j=2) of image 1, sub-position (a=1, c=0), channel 2.
        XCTAssertEqual(d[((1 * 2 + 1) * 3 + 2) * 12 + (1 * 2 + 0) * 3 + 2], x[((1 * 4 + 3) * 6 + 4) * 3 + 2])
        XCTAssertEqual(depthToSpace2x2(d).toArray(), x.toArray())
        GradCheck().check("space to depth", inputs: [x], forward: { spaceToDepth2x2(x) }) { [depthToSpace2x2($0)] }
        GradCheck().check("depth to space", inputs: [d], forward: { depthToSpace2x2(d) }) { [spaceToDepth2x2($0)] }
    }

    func testEmbeddingAndDropoutGradients() {
        let table = randomTensor([5, 3], seed: 8)
        let ids = [4, 0, 4, 2]
        XCTAssertEqual(embeddingForward(ids, table: table).toArray(), Array(table.toArray()[12..<15] + table.toArray()[0..<3] + table.toArray()[12..<15] + table.toArray()[6..<9]))
        GradCheck().check("embedding", inputs: [table], forward: { embeddingForward(ids, table: table) }) { dy in
            let g = Tensor(shape: table.shape); embeddingBackward(dy, ids: ids, tableGrad: g); return [g]
        }
        let x = randomTensor([4, 50], seed: 9), rng = CounterRNG(seed: 10)
        let (y, mask) = dropoutForward(x, p: 0.3, rng: rng, stream: 1, first: 0)
        let kept = mask.toArray().filter { $0 != 0 }.count
        XCTAssertTrue((100...180).contains(kept), "about 70% of 200 kept, got \(kept)")
        for i in 0..<x.count { XCTAssertEqual(y[i], x[i] * mask[i]) }
        XCTAssertEqual(dropoutForward(x, p: 0.3, rng: rng, stream: 1, first: 0).mask.toArray(), mask.toArray(), "reproducible")
        GradCheck().check("dropout", inputs: [x], forward: { dropoutForward(x, p: 0.3, rng: rng, stream: 1, first: 0).y }) {
            [dropoutBackward($0, mask: mask)]
        }
    }
}
