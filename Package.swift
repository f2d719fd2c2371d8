// swift-tools-version:6.0
// mscm — multistep consistency distillation as a service.
// No Swift package dependencies: three system C libraries (libpq, OpenBLAS+LAPACKE, libpng),
// each wrapped in a system-library target found through pkg-config.
import Foundation
import PackageDescription

// Hot kernels index raw buffers; release builds drop the bounds checks the debug build keeps.
// They also use the build machine's vector unit when it has AVX2 and FMA: the engine's matrix
// micro-kernels (NeuralNet/Ops/MicroKernels.swift) need fused multiply-add to reach BLAS speed.
let cpuInfo: String = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
let flagLine: Substring = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) ?? ""
let cpuFlags: Set<String> = Set(flagLine.split(separator: " ").map { String($0) })
let vectorFlags = cpuFlags.isSuperset(of: ["avx2", "fma"]) ? ["-target-cpu", "haswell", "-DMSCM_FMA"] : []
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"] + vectorFlags, .when(configuration: .release))]

// One test target per module, mirroring Sources/.
let testTargets: [(String, [Target.Dependency])] = [
    ("TensorsTests", ["Tensors"]),
    ("NeuralNetTests", ["NeuralNet", "Tensors", "FuzzSupport"]),
    ("DiffusionTests", ["Diffusion", "NeuralNet", "Tensors"]),
    ("DatasetsTests", ["Datasets", "Tensors", "FuzzSupport"]),
    ("ModelsTests", ["Models", "Diffusion", "NeuralNet", "Tensors", "Datasets", "FuzzSupport"]),
    ("EvaluationTests", ["Evaluation", "Tensors", "NeuralNet", "Models", "Datasets", "FuzzSupport"]),
    ("JobQueueTests", ["JobQueue", "FuzzSupport"]),
    ("JobsTests", ["Jobs", "JobQueue", "Models", "NeuralNet"]),
]

let package = Package(
    name: "mscm",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mscm-ctl", targets: ["mscm-ctl"]),
        .executable(name: "mscm-worker", targets: ["mscm-worker"]),
        .executable(name: "mscm-bench", targets: ["mscm-bench"]),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas lapacke",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),

        .target(name: "Tensors", dependencies: ["COpenBLAS"], swiftSettings: fast),
        .target(name: "NeuralNet", dependencies: ["Tensors"], swiftSettings: fast),
        .target(name: "Diffusion", dependencies: ["Tensors", "NeuralNet"], swiftSettings: fast),
        .target(name: "Datasets", dependencies: ["Tensors", "CLibPNG"], swiftSettings: fast),
        .target(name: "Models", dependencies: ["Tensors", "NeuralNet", "Diffusion", "Datasets"], swiftSettings: fast),
        .target(name: "Evaluation", dependencies: ["Tensors", "NeuralNet", "Diffusion", "Models", "Datasets"], swiftSettings: fast),
        .target(name: "JobQueue", dependencies: ["CLibPQ"]),
        .target(name: "Jobs", dependencies: ["JobQueue", "Tensors", "NeuralNet", "Diffusion", "Models", "Datasets", "Evaluation"], swiftSettings: fast),

        .executableTarget(name: "mscm-ctl", dependencies: ["Jobs", "JobQueue"]),
        .executableTarget(name: "mscm-worker", dependencies: ["Jobs", "JobQueue"]),
        .executableTarget(name: "mscm-bench", dependencies: ["Jobs", "JobQueue", "Tensors", "NeuralNet", "Models", "Diffusion", "Evaluation"], swiftSettings: fast),
        // The seeded mutation fuzzer the readers' fuzz tests share (ops/fuzz runs them long).
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport"),

    ] + testTargets.map { .testTarget(name: $0.0, dependencies: $0.1) },
    swiftLanguageModes: [.v5]
)
