import Foundation
import Tensors

// sgemm throughput: the shapes the models use and the best this machine reaches.

/// GFLOP/s of C[m×n] = op(A)·op(B) with k inner products.
func sgemmRate(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false) -> Double {
    let a = Tensor(shape: transA ? [k, m] : [m, k], repeating: 0.5)
    let b = Tensor(shape: transB ? [n, k] : [k, n], repeating: 0.25)
    let c = Tensor(shape: [m, n])
    let t = timePerCall { BLAS.matmul(a, b, into: c, transA: transA, transB: transB) }
    return gflops(Double(2 * m * n * k), t)
}

/// The best sgemm GFLOP/s over large square sizes (the machine's practical peak).
func bestSgemmRate() -> Double {
    [1024, 2048, 3072].map { sgemmRate(m: $0, n: $0, k: $0) }.max()!
}

func benchSgemm() {
    print("sgemm (OpenBLAS, \(BLAS.threads) threads)")
    for s in [256, 512, 1024, 2048, 3072] {
        print(String(format: "  square %5d           %7.1f GFLOP/s", s, sgemmRate(m: s, n: s, k: s)))
    }
    // The attention products run as sgemm (per example and head); the convolutions and linear
    // layers run on the engine's micro-kernel, listed here as the one sgemm each would be.
    let shapes: [(String, Int, Int, Int, Bool, Bool)] = [
        ("attn QKᵀ T=64 D=32", 64, 64, 32, false, true),
        ("attn PV  T=64 D=32", 64, 32, 64, false, false),
        ("attn QKᵀ T=64 D=64", 64, 64, 64, false, true),
        ("attn QKᵀ T=256 D=32", 256, 256, 32, false, true),
        ("cross QKᵀ 64×16 D=32", 64, 16, 32, false, true),
        ("as sgemm: conv 16²×64 fwd", 16384, 64, 576, false, false),
        ("as sgemm: conv 16²×64 dW", 576, 64, 16384, true, false),
        ("as sgemm: conv 16²×64 dx", 16384, 576, 64, false, true),
        ("as sgemm: conv 32²×32 fwd", 65536, 32, 288, false, false),
        ("as sgemm: conv 8²×128 fwd", 4096, 128, 1152, false, false),
        ("as sgemm: linear 4096×128→384", 4096, 384, 128, false, false),
        ("as sgemm: linear 4096×128→512", 4096, 512, 128, false, false),
    ] + (ProcessInfo.processInfo.environment["MSCM_BENCH_SHAPES"] ?? "").split(separator: ";").map { spec in
        let f = spec.split(separator: ",").map { Int($0)! }
        return ("custom", f[0], f[1], f[2], f[3] != 0, f[4] != 0)
    }
    for (label, m, n, k, ta, tb) in shapes {
        print("  " + label.padding(toLength: 32, withPad: " ", startingAt: 0)
              + String(format: "%6d×%5d×%6d %7.1f GFLOP/s", m, n, k, sgemmRate(m: m, n: n, k: k, transA: ta, transB: tb)))
    }
}
