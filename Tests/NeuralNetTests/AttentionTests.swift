import Tensors
import XCTest
import Foundation
@testable import NeuralNet

final class AttentionTests: XCTestCase {
    /// softmax(QKᵀ/√D + mask)·V per (example, head), in double precision.
    func naiveAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor?) -> [Double] {
        let (b, tq, c) = (q.shape[0], q.shape[1], q.shape[2]), tk = k.shape[1], d = c / heads
        var out = [Double](repeating: 0, count: b * tq * c)
        for e in 0..<b { for h in 0..<heads { for i in 0..<tq {
            var s = [Double](repeating: -.infinity, count: tk)
            for j in 0..<tk where mask == nil || mask![e * tk + j] != 0 {
                var dot = 0.0
                for x in 0..<d { dot += Double(q[(e * tq + i) * c + h * d + x]) * Double(k[(e * tk + j) * c + h * d + x]) }
                s[j] = dot / Double(d).squareRoot()
            }
            let m = s.max()!
            if m == -.infinity { continue }
            let ex = s.map { Foundation.exp($0 - m) }, z = ex.reduce(0, +)
            for x in 0..<d {
                var acc = 0.0
                for j in 0..<tk { acc += ex[j] / z * Double(v[(e * tk + j) * c + h * d + x]) }
                out[(e * tq + i) * c + h * d + x] = acc
            }
        } } }
        return out
    }

    func testForwardMatchesNaive() {
        let q = randomTensor([2, 5, 8], seed: 1), k = randomTensor([2, 7, 8], seed: 2), v = randomTensor([2, 7, 8], seed: 3)
        let mask = Tensor(shape: [2, 7], values: [1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        for m in [nil, mask] {
            let (out, _) = attentionForward(q: q, k: k, v: v, heads: 2, keyMask: m)
            XCTAssertLessThan(maxDifference(out, naiveAttention(q, k, v, heads: 2, mask: m)), 1e-5)
            XCTAssertTrue(out.isFinite, "a fully masked example must not produce NaN")
        }
    }

    /// Sizes past one 6×16 tile in every product (Tq, Tk and D beyond 16, partial tiles).
    func testLargerShapesAgainstNaive() {
        let q = randomTensor([2, 19, 40], seed: 31), k = randomTensor([2, 23, 40], seed: 32), v = randomTensor([2, 23, 40], seed: 33)
        let mask = Tensor(shape: [2, 23], values: (0..<46).map { $0 % 5 == 3 ? 0 : 1 })
        let (out, probs) = attentionForward(q: q, k: k, v: v, heads: 2, keyMask: mask)
        XCTAssertLessThan(maxDifference(out, naiveAttention(q, k, v, heads: 2, mask: mask)), 1e-5)
        GradCheck(maxProbes: 24).check("attention 19×23, D=20", inputs: [q, k, v],
                                       forward: { attentionForward(q: q, k: k, v: v, heads: 2, keyMask: mask).out }) { dy in
            let g = attentionBackward(dy, q: q, k: k, v: v, probs: probs, heads: 2)
            return [g.dq, g.dk, g.dv]
        }
    }

    func testGradientsSelfAndCross() {
        let q = randomTensor([2, 4, 6], seed: 4), kv = randomTensor([2, 4, 6], seed: 5), v = randomTensor([2, 4, 6], seed: 6)
        GradCheck().check("attention self-shaped", inputs: [q, kv, v],
                          forward: { attentionForward(q: q, k: kv, v: v, heads: 3).out }) { dy in
            let (_, p) = attentionForward(q: q, k: kv, v: v, heads: 3)
            let g = attentionBackward(dy, q: q, k: kv, v: v, probs: p, heads: 3)
            return [g.dq, g.dk, g.dv]
        }
        let k2 = randomTensor([2, 5, 6], seed: 7), v2 = randomTensor([2, 5, 6], seed: 8)
        let mask = Tensor(shape: [2, 5], values: [1, 0, 1, 1, 0, 0, 0, 0, 0, 0])
        GradCheck().check("attention cross masked", inputs: [q, k2, v2],
                          forward: { attentionForward(q: q, k: k2, v: v2, heads: 2, keyMask: mask).out }) { dy in
            let (_, p) = attentionForward(q: q, k: k2, v: v2, heads: 2, keyMask: mask)
            let g = attentionBackward(dy, q: q, k: k2, v: v2, probs: p, heads: 2)
            return [g.dq, g.dk, g.dv]
        }
    }

    func testMultiHeadAttentionLayerGradients() {
        let rng = CounterRNG(seed: 21)
        let selfAttn = MultiHeadAttention(dim: 8, heads: 2, name: "attn", rng: rng)
        let x = randomTensor([2, 3, 8], seed: 9)
        let mask = Tensor(shape: [2, 3], values: [1, 1, 0, 1, 1, 1])
        XCTAssertEqual(selfAttn.parameters.map(\.name), ["attn.qkv.weight", "attn.qkv.bias", "attn.out.weight", "attn.out.bias"])
        for p in selfAttn.parameters { CounterRNG(seed: 3).fillNormal(p.value.buffer, stream: Initializer.stream(for: p.name)) }
        GradCheck().check("mha self", inputs: [x] + selfAttn.parameters.map(\.value),
                          forward: { selfAttn.forward(x, keyMask: mask, save: false) }) { dy in
            selfAttn.zeroGrad()
            _ = selfAttn.forward(x, keyMask: mask, save: true)
            return [selfAttn.backward(dy).dx] + selfAttn.parameters.map(\.grad)
        }

        let cross = MultiHeadAttention(dim: 8, heads: 4, contextDim: 5, name: "cross", rng: rng)
        XCTAssertEqual(cross.parameters.map(\.name),
                       ["cross.q.weight", "cross.q.bias", "cross.kv.weight", "cross.kv.bias", "cross.out.weight", "cross.out.bias"])
        let context = randomTensor([2, 4, 5], seed: 10)
        let cmask = Tensor(shape: [2, 4], values: [1, 1, 1, 0, 1, 0, 0, 0])
        GradCheck().check("mha cross", inputs: [x, context] + cross.parameters.map(\.value),
                          forward: { cross.forward(x, context: context, keyMask: cmask, save: false) }) { dy in
            cross.zeroGrad()
            _ = cross.forward(x, context: context, keyMask: cmask, save: true)
            let (dx, dc) = cross.backward(dy)
            return [dx, dc!] + cross.parameters.map(\.grad)
        }
    }
}
