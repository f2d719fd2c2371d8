/// Analytic forward cost of one example, counting every multiply-add of the matrix products as
/// 2 FLOP (convolutions, linear layers, attention's QKᵀ and P·V); normalisations, activations,
/// pooling and the elementwise adds are left out (they are a few percent and not BLAS work).
/// A training step costs about 3× the forward (the backward computes two products per forward one).
extension ModelConfig {
    public func forwardFLOPs() -> Double {
        let u = uvit, t = text
        var f = 0.0
        func conv(_ side: Int, _ ci: Int, _ co: Int, k: Int = 3) { f += 2 * Double(side * side * k * k * ci * co) }
        func linear(_ rows: Int, _ i: Int, _ o: Int) { f += 2 * Double(rows * i * o) }
        func attention(_ tq: Int, _ tk: Int, _ d: Int) { f += 2 * 2 * Double(tq * tk * d) }
        func block(tokens n: Int, width d: Int, mlp: Int, context: (tokens: Int, width: Int)?) {
            linear(n, d, 3 * d); attention(n, n, d); linear(n, d, d)
            if let c = context {
                linear(n, d, d); linear(c.tokens, c.width, 2 * d); attention(n, c.tokens, d); linear(n, d, d)
            }
            linear(n, d, mlp * d); linear(n, mlp * d, d)
        }
        func res(_ side: Int, _ ci: Int, _ co: Int) {
            conv(side, ci, co); linear(1, u.embeddingWidth, 2 * co); conv(side, co, co)
            if ci != co { conv(side, ci, co, k: 1) }
        }
        // Text encoder (one caption per image) and the conditioning embedding.
        for _ in 0..<t.layers { block(tokens: t.maxLength, width: t.width, mlp: t.mlpRatio, context: nil) }
        linear(1, u.noiseFeatures, u.embeddingWidth); linear(1, u.embeddingWidth, u.embeddingWidth)
        linear(1, t.width, u.embeddingWidth)
        // UViT.
        let c = u.channels
        conv(u.resolution, 3, c[0])
        var inC = c[0]
        for l in 0..<u.levels {
            for _ in 0..<u.resBlocks[l] { res(u.resolution >> l, inC, c[l]); inC = c[l] }
        }
        let n = u.tokenGrid * u.tokenGrid, d = u.transformerWidth, last = c[u.levels - 1]
        linear(n, last, d)
        for _ in 0..<u.transformerBlocks {
            block(tokens: n, width: d, mlp: u.mlpRatio, context: (t.maxLength, t.width))
        }
        linear(n, d, last)
        var below = last
        for l in (0..<u.levels).reversed() {
            for i in 0..<u.resBlocks[l] { res(u.resolution >> l, i == 0 ? below + c[l] : c[l], c[l]) }
            below = c[l]
        }
        conv(u.resolution, c[0], 3)
        return f
    }
}
