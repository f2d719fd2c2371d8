import Foundation
import Tensors

// mscm-bench: release-mode benchmarks that print figures to compare run to run.
// Run: swift run -c release mscm-bench [sgemm]
func gflops(_ flop: Double, _ seconds: Double) -> Double { flop / seconds / 1e9 }

func benchSgemm() {
    print("sgemm (OpenBLAS, \(BLAS.threads) threads)")
    for (m, n, k) in [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (16384, 64, 576), (4096, 128, 1152)] {
        let a = Tensor(shape: [m, k], repeating: 0.5), b = Tensor(shape: [k, n], repeating: 0.25), c = Tensor(shape: [m, n])
        BLAS.matmul(a, b, into: c)
        let reps = max(3, Int(2e9 / Double(2 * m * n * k)))
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { BLAS.matmul(a, b, into: c) }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        print(String(format: "  %5d×%5d×%5d  %7.1f GFLOP/s", m, n, k, gflops(Double(2 * m * n * k * reps), dt)))
    }
}

switch CommandLine.arguments.dropFirst().first {
case "queue": runQueueBench()
default: benchSgemm()
}
