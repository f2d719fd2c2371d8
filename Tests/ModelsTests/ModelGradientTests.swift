import Tensors
import XCTest
import Diffusion
@testable import Models

/// Finite differences of the whole tiny model's loss L = Σ v̂ ∘ R against its backward, for
/// parameters in every part: text encoder, null conditioning, noise/text embedding, ResBlocks,
/// the transformer's self- and cross-attention, and the output. One example of the batch uses
/// the null conditioning and dropout is on (with the mask pinned by `setDropoutRound`).
final class ModelGradientTests: XCTestCase {
    func testWholeModelGradients() throws {
        let model = try tinyModel(seed: 7)
        perturbParameters(model, seed: 8, std: 0.15)
        model.isTraining = true
        let z = normalTensor([3, 16, 16, 3], seed: 9)
        let t: [Float] = [0.15, 0.5, 0.85]
        let conditional = [true, false, true]
        let r = normalTensor([3, 16, 16, 3], seed: 10)
        func loss() -> Double {
            model.setDropoutRound(4)
            return weightedSum(model.forward(z, t: t, captions: testCaptions, conditional: conditional, save: false), r)
        }
        model.zeroGrad()
        model.setDropoutRound(4)
        _ = model.forward(z, t: t, captions: testCaptions, conditional: conditional, save: true)
        model.backward(r)
        let byName = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0) })
        for name in ["text.token.weight", "text.position", "text.layers.0.attn.qkv.weight", "text.layers.0.mlp.fc1.weight",
                     "text.ln.weight", "text.null", "embed.noise.fc1.weight", "embed.text.weight",
                     "conv_in.weight", "down.0.res.0.conv1.weight", "down.0.res.0.emb.weight", "down.1.res.0.norm2.bias",
                     "down.1.res.0.skip.weight", "mid.proj_in.weight", "mid.position", "mid.blocks.0.attn.qkv.weight",
                     "mid.blocks.0.cross.q.weight", "mid.blocks.0.cross.kv.weight", "mid.blocks.0.mlp.fc2.weight",
                     "up.1.res.0.conv2.weight", "up.0.res.0.conv1.weight", "out.norm.weight", "out.conv.weight", "out.conv.bias"] {
            let p = try XCTUnwrap(byName[name], name)
            XCTAssertGreaterThan(p.grad.sumOfSquares(), 0, "\(name) receives gradient")
            checkGradient(name, x: p.value, grad: p.grad, probes: 4, loss: loss)
        }
        // The null token's gradient comes only from the unconditional example; the encoder's
        // token table only from the captions of the conditional ones.
        let onlyConditional = try tinyModel(seed: 7)
        perturbParameters(onlyConditional, seed: 8, std: 0.15)
        onlyConditional.isTraining = true
        onlyConditional.setDropoutRound(4)
        _ = onlyConditional.forward(z, t: t, captions: testCaptions, conditional: [true, true, true], save: true)
        onlyConditional.backward(r)
        XCTAssertEqual(onlyConditional.nullToken.grad.sumOfSquares(), 0)
    }

    /// The input gradient of the UViT and the embedding gradient, through every block.
    func testUViTInputAndEmbeddingGradients() throws {
        let model = try tinyModel(seed: 11)
        perturbParameters(model, seed: 12, std: 0.15)
        let uvit = model.uvit
        let z = normalTensor([2, 16, 16, 3], seed: 13), e = normalTensor([2, 16], seed: 14)
        let context = normalTensor([2, 16, 16], seed: 15)
        let mask = Tensor(shape: [2, 16], values: (0..<32).map { $0 % 16 < 9 || $0 / 16 == 1 && $0 % 16 < 12 ? 1 : 0 })
        let r = normalTensor([2, 16, 16, 3], seed: 16)
        func loss() -> Double { weightedSum(uvit.forward(z, embedding: e, context: context, contextMask: mask, save: false), r) }
        _ = uvit.forward(z, embedding: e, context: context, contextMask: mask, save: true)
        let (dz, de, dContext) = uvit.backward(r)
        checkGradient("uvit dz", x: z, grad: dz, probes: 6, loss: loss)
        checkGradient("uvit de", x: e, grad: de, probes: 6, loss: loss)
        checkGradient("uvit dcontext", x: context, grad: try XCTUnwrap(dContext), probes: 6, loss: loss)
    }
}
