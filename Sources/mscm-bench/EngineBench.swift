import Foundation
import Tensors
import NeuralNet

// Engine benchmark: conv2d, attention and norms at model-sized shapes (batch 64), reported as
// time and GFLOP/s against the best sgemm rate; then a UViT-like training step and a memory
// check over many steps. Run: swift run -c release mscm-bench engine

func benchEngine() {
    let best = engineHeader()
    benchConv(best: best)
    benchLinear(best: best)
    benchAttention(best: best)
    benchNorms()
    benchTrainingStep(best: best)
    benchMemory()
}

/// Single parts, e.g. `mscm-bench engine.conv`.
let engineParts: [(name: String, run: () -> Void)] = [
    ("engine.conv", { benchConv(best: engineHeader()) }),
    ("engine.attention", { benchAttention(best: engineHeader()) }),
    ("engine.linear", { benchLinear(best: engineHeader()) }),
    ("engine.norms", { benchNorms() }),
    ("engine.step", { benchTrainingStep(best: engineHeader()) }),
    ("engine.memory", { benchMemory() }),
]

func engineHeader() -> Double {
    // MSCM_BENCH_BEST=<GFLOP/s> skips the measurement (for profiling one part).
    let best = ProcessInfo.processInfo.environment["MSCM_BENCH_BEST"].flatMap(Double.init) ?? bestSgemmRate()
    print(String(format: "engine (OpenBLAS %d threads, %d kernel threads); best sgemm %.1f GFLOP/s", BLAS.threads, Parallel.maxChunks, best))
    return best
}

func randomInput(_ shape: [Int], seed: UInt64) -> Tensor {
    let t = Tensor(shape: shape)
    CounterRNG(seed: seed).fillNormal(t.buffer, stream: 0)
    return t
}

func report(_ label: String, flop: Double, seconds: Double, best: Double) {
    let rate = gflops(flop, seconds)
    print("  " + label.padding(toLength: 46, withPad: " ", startingAt: 0)
          + String(format: "%8.2f ms %7.1f GFLOP/s  %5.1f%% of best sgemm", seconds * 1e3, rate, 100 * rate / best))
}

func benchConv(best: Double) {
    print("conv2d (B = 64, stride 1, same padding)")
    let shapes = [(16, 64, 64, 3), (32, 32, 32, 3), (8, 128, 128, 3), (16, 192, 64, 3), (16, 3, 64, 3), (16, 64, 3, 3), (16, 64, 64, 1)]
    for (h, ci, co, k) in shapes {
        let x = randomInput([64, h, h, ci], seed: 1)
        let conv = Conv2d(inChannels: ci, outChannels: co, kernelSize: k, name: "conv", rng: CounterRNG(seed: 2))
        let dy = randomInput([64, h, h, co], seed: 3)
        let flop = 2.0 * Double(64 * h * h * k * k * ci * co)
        let fwd = timePerCall { _ = conv.forward(x, save: false) }
        let both = timePerCall { _ = conv.forward(x, save: true); _ = conv.backward(dy) }
        let w = conv.weight.value, gw = conv.weight.grad
        let dW = timePerCall { conv2dWeightGradient(dy, x: x, weightGrad: gw, biasGrad: nil) }
        let dX = timePerCall { _ = conv2dInputGradient(dy, weight: w) }
        let shape = "\(h)×\(h)×\(ci)→\(co) \(k)×\(k)"
        report("\(shape) forward", flop: flop, seconds: fwd, best: best)
        report("\(shape) backward dW", flop: flop, seconds: dW, best: best)
        report("\(shape) backward dx", flop: flop, seconds: dX, best: best)
        report("\(shape) forward+backward", flop: 3 * flop, seconds: both, best: best)
    }
}

func benchLinear(best: Double) {
    print("linear (transformer shapes, B·T = 4096 rows)")
    for (inF, outF) in [(128, 384), (128, 128), (128, 512), (512, 128), (256, 768)] {
        let x = randomInput([64, 64, inF], seed: 12), dy = randomInput([64, 64, outF], seed: 13)
        let lin = Linear(inFeatures: inF, outFeatures: outF, name: "l", rng: CounterRNG(seed: 14))
        let flop = 2.0 * Double(4096 * inF * outF)
        let f = timePerCall { _ = lin.forward(x, save: false) }
        let fb = timePerCall { _ = lin.forward(x, save: true); _ = lin.backward(dy) }
        report("\(inF)→\(outF) forward", flop: flop, seconds: f, best: best)
        report("\(inF)→\(outF) forward+backward", flop: 3 * flop, seconds: fb, best: best)
    }
}

func benchAttention(best: Double) {
    print("attention (B = 64, self-attention incl. qkv/out projections)")
    for (t, c, heads) in [(64, 256, 4), (256, 128, 4), (64, 128, 2)] {
        let attn = MultiHeadAttention(dim: c, heads: heads, name: "attn", rng: CounterRNG(seed: 4))
        let x = randomInput([64, t, c], seed: 5), dy = randomInput([64, t, c], seed: 6)
        // Projections: 2·B·T·C·4C; scores and output: 2 · 2·B·T²·C.
        let flop = 2.0 * Double(64 * t * c * 4 * c) + 4.0 * Double(64 * t * t * c)
        let fwd = timePerCall { _ = attn.forward(x, save: false) }
        let both = timePerCall { _ = attn.forward(x, save: true); _ = attn.backward(dy) }
        report("T=\(t) C=\(c) H=\(heads) forward", flop: flop, seconds: fwd, best: best)
        report("T=\(t) C=\(c) H=\(heads) forward+backward", flop: 3 * flop, seconds: both, best: best)
        let q = randomInput([64, t, c], seed: 7)
        let core = timePerCall { _ = attentionForward(q: q, k: q, v: q, heads: heads) }
        report("T=\(t) C=\(c) H=\(heads) core (no projections) fwd", flop: 4.0 * Double(64 * t * t * c), seconds: core, best: best)
    }
}

/// Norms and pointwise ops are memory-bound: reported as time, effective bandwidth over input
/// and output, and GFLOP/s at a stated nominal count of flop per element.
func benchNorms() {
    print("norms and pointwise (B = 64)")
    func line(_ label: String, _ seconds: Double, elements: Int, flopPerElement: Double, bytes: Double? = nil) {
        var text = "  " + label.padding(toLength: 52, withPad: " ", startingAt: 0) + String(format: "%8.2f ms", seconds * 1e3)
        if let bytes { text += String(format: " %6.1f GB/s", bytes / seconds / 1e9) } else { text += "            " }
        text += String(format: " %6.2f GFLOP/s (%.0f flop/element)", flopPerElement * Double(elements) / seconds / 1e9, flopPerElement)
        print(text)
    }
    let x = randomInput([64, 16, 16, 64], seed: 8), dy = randomInput([64, 16, 16, 64], seed: 9)
    let io = Double(x.count * 8)
    for fused in [false, true] {
        let gn = GroupNorm(groups: 32, channels: 64, silu: fused, name: "gn")
        let label = fused ? "group norm + SiLU (fused)" : "group norm"
        let f = timePerCall { _ = gn.forward(x, save: false) }
        let fb = timePerCall { _ = gn.forward(x, save: true); _ = gn.backward(dy) }
        line("\(label) 16×16×64 forward", f, elements: x.count, flopPerElement: fused ? 11 : 6, bytes: io)
        line("\(label) 16×16×64 forward+backward", fb, elements: x.count, flopPerElement: fused ? 31 : 13)
    }
    let tokens = randomInput([64, 64, 256], seed: 10), dt = randomInput([64, 64, 256], seed: 11)
    let ln = LayerNorm(features: 256, name: "ln")
    let lnF = timePerCall { _ = ln.forward(tokens, save: false) }
    let lnB = timePerCall { _ = ln.forward(tokens, save: true); _ = ln.backward(dt) }
    line("layer norm 64×64×256 forward", lnF, elements: tokens.count, flopPerElement: 8, bytes: Double(tokens.count * 8))
    line("layer norm 64×64×256 forward+backward", lnB, elements: tokens.count, flopPerElement: 19)
    let silu = timePerCall { _ = siluForward(x) }
    let gelu = timePerCall { _ = geluForward(tokens) }
    line("SiLU 16×16×64 forward", silu, elements: x.count, flopPerElement: 5, bytes: io)
    line("GELU 64×64×256 forward", gelu, elements: tokens.count, flopPerElement: 5, bytes: Double(tokens.count * 8))
}

/// Inputs and one full training step (forward, loss, backward, clipping, AdamW, EMA).
final class BenchTrainer {
    let net: BenchUViT
    let opt: AdamW
    let ema: EMA
    let x: Tensor, time: Tensor, context: Tensor, mask: Tensor, target: Tensor

    init(batch: Int) {
        net = BenchUViT(batch: batch, rng: CounterRNG(seed: 1))
        opt = AdamW(parameters: net.parameters, lr: 1e-4)
        ema = EMA(parameters: net.parameters, decay: 0.999)
        x = randomInput([batch, 16, 16, 3], seed: 2); time = randomInput([batch, 256], seed: 3)
        context = randomInput([batch, 16, 128], seed: 4); target = randomInput([batch, 16, 16, 3], seed: 5)
        mask = Tensor(shape: [batch, 16], repeating: 1)
        for b in 0..<batch { for t in (4 + b % 12)..<16 { mask[b * 16 + t] = 0 } }   // padded captions
    }

    func step() throws -> Float {
        opt.zeroGrad()
        let loss = meanSquareLoss(net.forward(x, time: time, context: context, mask: mask, save: true), target)
        try checkFinite(loss: loss.value)
        net.backward(loss.gradient)
        try opt.clipGradNorm(maxNorm: 1)
        opt.step()
        ema.update()
        return loss.value
    }
}

func benchTrainingStep(best: Double) {
    let trainer = BenchTrainer(batch: 64)
    let flop = 3 * trainer.net.flops.forward
    print(String(format: "UViT-like training step (16×16×3, base 64, 8×8×128 transformer ×2, batch 64): %.1f M parameters, %.1f GFLOP per step",
                 Double(trainer.net.parameterCount) / 1e6, flop / 1e9))
    let fwd = timePerCall(trials: 3, minTrial: 1) {
        _ = trainer.net.forward(trainer.x, time: trainer.time, context: trainer.context, mask: trainer.mask, save: false)
    }
    report("forward (inference)", flop: flop / 3, seconds: fwd, best: best)
    let step = timePerCall(trials: 3, minTrial: 2) { _ = try! trainer.step() }
    report("training step (fwd+bwd+AdamW+EMA)", flop: flop, seconds: step, best: best)
    print(String(format: "  bar: PyTorch, 2 threads, comparable step ≈ 180 GFLOP/s → this step at %.0f%% of it", 100 * gflops(flop, step) / 180))
}

/// glibc's malloc_trim (returns freed heap memory to the system; not in the Glibc module map).
@_silgen_name("malloc_trim") func glibcMallocTrim(_ pad: Int) -> Int32

/// RSS before and after many training steps of the benchmark network (batch 2): memory must
/// stay flat because activations are released after backward.
func benchMemory(steps: Int = 1000) {
    // Start from what this part allocates, not what earlier parts left in the pools.
    StoragePool.drain()
    _ = glibcMallocTrim(0)
    let trainer = BenchTrainer(batch: 2)
    _ = try! trainer.step()
    let start = residentMiB()
    var checkpoints: [String] = []
    let t = seconds {
        for i in 1...steps {
            _ = try! trainer.step()
            if i % (steps / 4) == 0 { checkpoints.append(String(format: "%d: %.1f", i, residentMiB())) }
        }
    }
    let end = residentMiB()
    print(String(format: "memory over %d training steps (batch 2, %.1f ms/step): RSS %.1f MiB after step 1 → %.1f MiB after step %d (%+.1f MiB); [%@]",
                 steps, t / Double(steps) * 1e3, start, end, steps, end - start, checkpoints.joined(separator: ", ")))
}
