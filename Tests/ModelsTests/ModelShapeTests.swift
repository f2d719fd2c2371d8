import NeuralNet
import XCTest
import Diffusion
@testable import Models

final class ModelShapeTests: XCTestCase {
    func testEveryPresetPredictsVelocityOfTheInputShape() throws {
        for (config, batch) in [(ModelConfig.tiny, 3), (.small, 2), (.base, 1)] {
            let model = try TextToImageModel(config, seed: 3)
            let r = config.uvit.resolution
            let z = normalTensor([batch, r, r, 3], seed: 1)
            let v = model.forward(z, t: [Float](repeating: 0.5, count: batch), captions: Array(testCaptions.prefix(batch)),
                                  conditional: [Bool](repeating: true, count: batch), save: false)
            XCTAssertEqual(v.shape, [batch, r, r, 3], config.preset)
            XCTAssertTrue(v.isFinite, config.preset)
            let c = model.encode(Array(testCaptions.prefix(batch)))
            XCTAssertEqual(c.context.shape, [batch, config.text.maxLength, config.text.width])
            print("preset \(config.preset): \(model.parameterCount) parameters, \(String(format: "%.4f", config.forwardFLOPs() / 1e9)) GFLOP forward per image")
        }
    }

    func testFreshNetworkPredictsZeroAndConditioningStartsNeutral() throws {
        let model = try tinyModel()
        let z = normalTensor([2, 16, 16, 3], seed: 2)
        let v = model.forward(z, t: [0.3, 0.9], captions: Array(testCaptions.prefix(2)), conditional: [true, false], save: false)
        XCTAssertEqual(v.toArray().map(abs).max(), 0, "the output convolution starts at zero")
    }

    func testParameterNamesAreDottedUniqueAndDeterministic() throws {
        let a = try tinyModel(seed: 4), b = try tinyModel(seed: 4), c = try tinyModel(seed: 5)
        let names = a.parameters.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "names are unique")
        for expected in ["text.token.weight", "text.position", "text.layers.0.attn.qkv.weight", "text.ln.weight", "text.null",
                         "embed.noise.fc1.weight", "embed.text.weight", "conv_in.weight", "down.0.res.0.conv1.weight",
                         "down.1.res.0.skip.weight", "down.1.res.0.emb.weight", "mid.proj_in.weight", "mid.position",
                         "mid.blocks.0.attn.qkv.weight", "mid.blocks.0.cross.kv.weight", "mid.blocks.0.mlp.fc2.weight",
                         "up.1.res.0.conv1.weight", "up.0.res.0.skip.weight", "out.norm.weight", "out.conv.weight"] {
            XCTAssertTrue(names.contains(expected), "missing \(expected)")
        }
        XCTAssertEqual(names, b.parameters.map(\.name))
        for (p, q) in zip(a.parameters, b.parameters) { XCTAssertEqual(p.value.toArray(), q.value.toArray(), p.name) }
        XCTAssertNotEqual(a.encoder.token.weight.value.toArray(), c.encoder.token.weight.value.toArray(), "the seed matters")
        XCTAssertEqual(a.uvit.up[0][0].conv1.weight.value.shape, [3, 3, 8 + 16, 8], "up path concatenates the skip")
    }

    /// The analytic count against one made by walking the built layers: 2 · (weights of every
    /// conv/linear) · (positions it is applied at) + the attention products.
    func testForwardFLOPsMatchACountOverTheBuiltLayers() throws {
        for config in [ModelConfig.tiny, .small, .base] {
            let m = try TextToImageModel(config, seed: 0)
            let u = config.uvit, t = config.text
            var f = 0.0
            func w(_ p: Parameter, _ positions: Int) { f += 2 * Double(p.value.count * positions) }
            func attn(_ a: MultiHeadAttention, tokens: Int, keys: Int, contextTokens: Int) {
                for l in [a.qkv, a.q, a.out].compactMap({ $0 }) { w(l.weight, tokens) }
                if let kv = a.kv { w(kv.weight, contextTokens) }
                f += 4 * Double(tokens * keys * a.dim)
            }
            func block(_ b: TransformerBlock, tokens: Int) {
                attn(b.attn, tokens: tokens, keys: tokens, contextTokens: 0)
                if let c = b.cross { attn(c, tokens: tokens, keys: t.maxLength, contextTokens: t.maxLength) }
                w(b.mlp.fc1.weight, tokens); w(b.mlp.fc2.weight, tokens)
            }
            func res(_ r: ResBlock, side: Int) {
                w(r.conv1.weight, side * side); w(r.conv2.weight, side * side); w(r.emb.weight, 1)
                if let s = r.skip { w(s.weight, side * side) }
            }
            for b in m.encoder.layers { block(b, tokens: t.maxLength) }
            w(m.noiseMLP.fc1.weight, 1); w(m.noiseMLP.fc2.weight, 1); w(m.textProjection.weight, 1)
            w(m.uvit.convIn.weight, u.resolution * u.resolution); w(m.uvit.outConv.weight, u.resolution * u.resolution)
            for l in 0..<u.levels {
                for r in m.uvit.down[l] + m.uvit.up[l] { res(r, side: u.resolution >> l) }
            }
            let n = u.tokenGrid * u.tokenGrid
            w(m.uvit.projIn.weight, n); w(m.uvit.projOut.weight, n)
            for b in m.uvit.blocks { block(b, tokens: n) }
            XCTAssertEqual(config.forwardFLOPs(), f, accuracy: 1e-9 * f, config.preset)
        }
    }

    func testInvalidConfigsAndPresetNamesAreOneLineErrors() {
        var bad = ModelConfig.tiny
        bad.uvit.resolution = 10
        XCTAssertThrowsError(try TextToImageModel(bad, seed: 0)) { XCTAssertTrue("\($0)".contains("not divisible")) }
        bad = .tiny
        bad.uvit.heads = 3
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("heads")) }
        XCTAssertThrowsError(try ModelConfig.preset("huge")) { XCTAssertTrue("\($0)".contains("tiny, small, base")) }
        XCTAssertEqual(try ModelConfig.preset("small"), .small)
        XCTAssertEqual(try ModelConfig.decode(json: ModelConfig.base.jsonString(), source: "x"), .base)
    }
}
