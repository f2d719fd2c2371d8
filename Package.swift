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

// One test target per module, mirroring Sources/; each lists exactly what its files import.
let testTargets: [(String, [Target.Dependency])] = [
    ("FormatsTests", ["Formats", "FuzzSupport"]),
    ("CommandLineKitTests", ["CommandLineKit"]),
    ("TensorsTests", ["Tensors"]),
    ("NeuralNetTests", ["NeuralNet", "Tensors", "FuzzSupport"]),
    ("DiffusionTests", ["Diffusion", "Tensors"]),
    ("ToyDiffusionTests", ["ToyDiffusion", "Diffusion", "NeuralNet", "Tensors"]),
    ("DatasetsTests", ["Datasets", "Tensors", "FuzzSupport"]),
    ("ModelsTests", ["Models", "Diffusion", "NeuralNet", "Tensors", "Datasets"]),
    ("EvaluationTests", ["Evaluation", "Formats", "Tensors", "NeuralNet", "Models", "Datasets", "Training", "FuzzSupport"]),
    ("TrainingTests", ["Training", "Evaluation", "Models", "Datasets", "Diffusion", "NeuralNet", "Tensors", "FuzzSupport"]),
    ("JobQueueTests", ["JobQueue", "Formats"]),
    ("JobsTests", ["Jobs", "JobQueue", "CommandLineKit", "Formats", "Models", "NeuralNet", "Datasets", "Evaluation", "Training", "FuzzSupport"]),
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

        // The module graph points one way (README "Architecture"); each target lists exactly
        // the modules its files import.
        // Files, text and numbers people read: JSON, atomic files, hashes, archives, SVG. Foundation only.
        .target(name: "Formats"),
        // Flags, help and one-line usage errors for the three executables.
        .target(name: "CommandLineKit", dependencies: ["Formats"]),

        .target(name: "Tensors", dependencies: ["COpenBLAS"], swiftSettings: fast),
        .target(name: "NeuralNet", dependencies: ["Tensors", "Formats"], swiftSettings: fast),
        .target(name: "Diffusion", dependencies: ["Tensors"], swiftSettings: fast),
        // The one-dimensional mixture world of Figure 1: a small velocity network and its distillation.
        .target(name: "ToyDiffusion", dependencies: ["Tensors", "NeuralNet", "Diffusion"], swiftSettings: fast),
        .target(name: "Datasets", dependencies: ["Tensors", "CLibPNG", "Formats"], swiftSettings: fast),
        .target(name: "Models", dependencies: ["Tensors", "NeuralNet", "Diffusion", "Formats"], swiftSettings: fast),
        .target(name: "Evaluation", dependencies: ["Tensors", "NeuralNet", "Diffusion", "Models", "Datasets", "Formats"], swiftSettings: fast),
        // The training loops (teacher, distiller, evaluator), their configs, specs and checkpoints,
        // and the opening of their datasets: the one module where Datasets feeds the models.
        .target(name: "Training", dependencies: ["Tensors", "NeuralNet", "Diffusion", "Models", "Evaluation", "Datasets", "Formats"], swiftSettings: fast),
        .target(name: "JobQueue", dependencies: ["CLibPQ", "Formats"]),
        .target(name: "Jobs", dependencies: ["JobQueue", "Tensors", "NeuralNet", "Diffusion", "Models", "Datasets", "Evaluation", "Training", "Formats", "CommandLineKit"], swiftSettings: fast),

        .executableTarget(name: "mscm-ctl", dependencies: ["Jobs", "JobQueue", "CommandLineKit", "Formats", "ToyDiffusion", "Datasets", "Models", "Evaluation", "Training"]),
        .executableTarget(name: "mscm-worker", dependencies: ["Jobs", "JobQueue", "CommandLineKit", "Formats"]),
        .executableTarget(name: "mscm-bench", dependencies: ["Jobs", "JobQueue", "Formats", "Tensors", "NeuralNet", "Models", "Diffusion", "Datasets", "Evaluation", "Training"], swiftSettings: fast),
        // The seeded mutation fuzzer the readers' fuzz tests share (ops/fuzz runs them long).
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport"),

    ] + testTargets.map { .testTarget(name: $0.0, dependencies: $0.1) },
    swiftLanguageModes: [.v5]
)
