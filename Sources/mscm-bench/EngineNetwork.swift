import Foundation
import Tensors
import NeuralNet

// A UViT-shaped network built only from NeuralNet layers, for the engine's training-step
// benchmark: convolutional residual stages at 16×16 and 8×8, two transformer blocks (self-
// attention, cross-attention to text tokens, MLP) on the 8×8 tokens, and an up path with a
// skip concatenation. It counts its own matrix FLOPs so the step's GFLOP/s can be set beside
// PyTorch's. (The real UViT lives in Models; this one only exercises the engine.)

/// FLOPs of the matrix products of one forward pass, accumulated while building.
final class FlopCounter { var forward = 0.0 }

/// MSCM_BENCH_UNFUSED=1 runs GroupNorm and SiLU as separate layers (for comparison).
let benchFused = ProcessInfo.processInfo.environment["MSCM_BENCH_UNFUSED"] == nil

/// GroupNorm followed by SiLU, fused or as two layers.
final class NormSiLU: Module {
    let norm: GroupNorm, act = Activation(.silu)
    init(channels: Int, name: String) { norm = GroupNorm(groups: 32, channels: channels, silu: benchFused, name: name) }
    var parameters: [Parameter] { norm.parameters }
    func forward(_ x: Tensor, save: Bool) -> Tensor {
        benchFused ? norm.forward(x, save: save) : act.forward(norm.forward(x, save: save), save: save)
    }
    func backward(_ dy: Tensor) -> Tensor { benchFused ? norm.backward(dy) : norm.backward(act.backward(dy)) }
}

final class BenchResBlock: Module {
    let norm1: NormSiLU, conv1: Conv2d
    let temb: Linear
    let norm2: NormSiLU, conv2: Conv2d
    let skip: Conv2d?
    private var savedShape: [Int] = []

    init(_ cin: Int, _ cout: Int, embedDim: Int, size: Int, batch: Int, name: String, rng: CounterRNG, flops: FlopCounter) {
        norm1 = NormSiLU(channels: cin, name: dotted(name, "norm1"))
        conv1 = Conv2d(inChannels: cin, outChannels: cout, name: dotted(name, "conv1"), rng: rng)
        temb = Linear(inFeatures: embedDim, outFeatures: cout, name: dotted(name, "temb"), rng: rng)
        norm2 = NormSiLU(channels: cout, name: dotted(name, "norm2"))
        conv2 = Conv2d(inChannels: cout, outChannels: cout, name: dotted(name, "conv2"), rng: rng)
        skip = cin == cout ? nil : Conv2d(inChannels: cin, outChannels: cout, kernelSize: 1, name: dotted(name, "skip"), rng: rng)
        let positions = Double(batch * size * size)
        flops.forward += 2 * positions * 9 * Double(cin * cout + cout * cout) + 2 * Double(batch * embedDim * cout)
        if skip != nil { flops.forward += 2 * positions * Double(cin * cout) }
    }

    var parameters: [Parameter] {
        norm1.parameters + conv1.parameters + temb.parameters + norm2.parameters + conv2.parameters + (skip?.parameters ?? [])
    }

    func forward(_ x: Tensor, embedding: Tensor, save: Bool) -> Tensor {
        var h = conv1.forward(norm1.forward(x, save: save), save: save)
        let e = temb.forward(embedding, save: save)                                  // [B, C]
        h = broadcastAdd(h, e.reshaped([e.shape[0], 1, 1, e.shape[1]]))
        h = conv2.forward(norm2.forward(h, save: save), save: save)
        return added(skip?.forward(x, save: save) ?? x, h)
    }

    /// Returns (dx, d embedding).
    func backward(_ dy: Tensor) -> (Tensor, Tensor) {
        let dh = norm2.backward(conv2.backward(dy))
        let de = temb.backward(reduceToShape(dh, [dh.shape[0], 1, 1, dh.shape[3]]).reshaped([dh.shape[0], dh.shape[3]]))
        let dx = norm1.backward(conv1.backward(dh))
        dx.add(skip?.backward(dy) ?? dy)
        return (dx, de)
    }
}

final class BenchTransformerBlock: Module {
    let ln1: LayerNorm, attn: MultiHeadAttention
    let ln2: LayerNorm, cross: MultiHeadAttention
    let ln3: LayerNorm, mlp: MLP

    init(dim: Int, heads: Int, contextDim: Int, tokens: Int, contextTokens: Int, batch: Int,
         name: String, rng: CounterRNG, flops: FlopCounter) {
        ln1 = LayerNorm(features: dim, name: dotted(name, "ln1"))
        attn = MultiHeadAttention(dim: dim, heads: heads, name: dotted(name, "attn"), rng: rng)
        ln2 = LayerNorm(features: dim, name: dotted(name, "ln2"))
        cross = MultiHeadAttention(dim: dim, heads: heads, contextDim: contextDim, name: dotted(name, "cross"), rng: rng)
        ln3 = LayerNorm(features: dim, name: dotted(name, "ln3"))
        mlp = MLP(dim: dim, hidden: 4 * dim, name: dotted(name, "mlp"), rng: rng)
        let n = Double(batch * tokens), d = Double(dim)
        flops.forward += 2 * n * d * 4 * d + 4 * n * Double(tokens) * d                  // self: qkv, out, core
        flops.forward += 2 * n * d * 2 * d + 2 * Double(batch * contextTokens) * Double(contextDim) * 2 * d
            + 4 * n * Double(contextTokens) * d                                             // cross
        flops.forward += 2 * n * d * 8 * d                                                  // MLP
    }

    var parameters: [Parameter] {
        ln1.parameters + attn.parameters + ln2.parameters + cross.parameters + ln3.parameters + mlp.parameters
    }

    func forward(_ x: Tensor, context: Tensor, mask: Tensor, save: Bool) -> Tensor {
        var h = added(x, attn.forward(ln1.forward(x, save: save), save: save))
        h = added(h, cross.forward(ln2.forward(h, save: save), context: context, keyMask: mask, save: save))
        return added(h, mlp.forward(ln3.forward(h, save: save), save: save))
    }

    /// Returns (dx, d context).
    func backward(_ dy: Tensor) -> (Tensor, Tensor) {
        let dh2 = ln3.backward(mlp.backward(dy)); dh2.add(dy)
        let (dc, dContext) = cross.backward(dh2)
        let dh1 = ln2.backward(dc); dh1.add(dh2)
        let dx = ln1.backward(attn.backward(dh1).dx); dx.add(dh1)
        return (dx, dContext!)
    }
}

/// 16×16×3 images, base width 64, batch B: the shape of the mission's teacher.
final class BenchUViT: Module {
    let flops = FlopCounter()
    let batch: Int, textTokens = 16, textDim = 128
    let embed: Linear, embedAct = Activation(.silu)
    let convIn: Conv2d
    let down: [BenchResBlock], pool = AvgPool2x2()
    let mid: [BenchResBlock], blocks: [BenchTransformerBlock], midOut: BenchResBlock
    let upsample = Upsample2x()
    let up: [BenchResBlock]
    let normOut: NormSiLU, convOut: Conv2d

    init(batch: Int, rng: CounterRNG) {
        self.batch = batch
        let e = 256, flops = self.flops
        embed = Linear(inFeatures: e, outFeatures: e, name: "temb", rng: rng)
        convIn = Conv2d(inChannels: 3, outChannels: 64, name: "conv_in", rng: rng)
        down = (0..<2).map { BenchResBlock(64, 64, embedDim: e, size: 16, batch: batch, name: "down.0.res.\($0)", rng: rng, flops: flops) }
        mid = [BenchResBlock(64, 128, embedDim: e, size: 8, batch: batch, name: "down.1.res.0", rng: rng, flops: flops),
               BenchResBlock(128, 128, embedDim: e, size: 8, batch: batch, name: "down.1.res.1", rng: rng, flops: flops)]
        blocks = (0..<2).map { BenchTransformerBlock(dim: 128, heads: 4, contextDim: 128, tokens: 64, contextTokens: 16,
                                                     batch: batch, name: "mid.\($0)", rng: rng, flops: flops) }
        midOut = BenchResBlock(128, 128, embedDim: e, size: 8, batch: batch, name: "up.1.res.0", rng: rng, flops: flops)
        up = [BenchResBlock(192, 64, embedDim: e, size: 16, batch: batch, name: "up.0.res.0", rng: rng, flops: flops),
              BenchResBlock(64, 64, embedDim: e, size: 16, batch: batch, name: "up.0.res.1", rng: rng, flops: flops)]
        normOut = NormSiLU(channels: 64, name: "norm_out")
        convOut = Conv2d(inChannels: 64, outChannels: 3, name: "conv_out", rng: rng)
        let p = Double(batch * 256)
        flops.forward += 2 * Double(batch * e * e) + 2 * p * 9 * 3 * 64 * 2
    }

    var parameters: [Parameter] {
        embed.parameters + convIn.parameters + (down + mid).flatMap(\.parameters) + blocks.flatMap(\.parameters)
            + midOut.parameters + up.flatMap(\.parameters) + normOut.parameters + convOut.parameters
    }

    func forward(_ x: Tensor, time: Tensor, context: Tensor, mask: Tensor, save: Bool) -> Tensor {
        let e = embedAct.forward(embed.forward(time, save: save), save: save)
        var h = convIn.forward(x, save: save)
        for b in down { h = b.forward(h, embedding: e, save: save) }
        let skip = h
        h = pool.forward(h, save: save)
        for b in mid { h = b.forward(h, embedding: e, save: save) }
        var tokens = h.reshaped([batch, 64, 128])
        for b in blocks { tokens = b.forward(tokens, context: context, mask: mask, save: save) }
        h = midOut.forward(tokens.reshaped([batch, 8, 8, 128]), embedding: e, save: save)
        h = concatLastAxis([upsample.forward(h, save: save), skip])
        for b in up { h = b.forward(h, embedding: e, save: save) }
        return convOut.forward(normOut.forward(h, save: save), save: save)
    }

    func backward(_ dy: Tensor) {
        var dh = normOut.backward(convOut.backward(dy))
        let de = Tensor(shape: [batch, 256])
        for b in up.reversed() { let (dx, d) = b.backward(dh); de.add(d); dh = dx }
        let parts = splitLastAxis(dh, widths: [128, 64])
        var dSkip = parts[1]
        let (dMid, d0) = midOut.backward(upsample.backward(parts[0])); de.add(d0)
        var dTokens = dMid.reshaped([batch, 64, 128])
        for b in blocks.reversed() { dTokens = b.backward(dTokens).0 }
        dh = dTokens.reshaped([batch, 8, 8, 128])
        for b in mid.reversed() { let (dx, d) = b.backward(dh); de.add(d); dh = dx }
        dSkip = added(dSkip, pool.backward(dh))
        dh = dSkip
        for b in down.reversed() { let (dx, d) = b.backward(dh); de.add(d); dh = dx }
        convIn.backwardParameters(dh)
        embed.backwardParameters(embedAct.backward(de))
    }
}
