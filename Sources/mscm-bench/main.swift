import Foundation
import Tensors

// mscm-bench: release-mode benchmarks that print figures to compare run to run.
// Run: swift run -c release mscm-bench [sgemm|engine|models|distill|evaluator|queue|all] (default: all).
// Each area lives in its own file (EngineBench.swift, SgemmBench.swift, …) and registers here.

let areas: [(name: String, run: () -> Void)] = [
    ("sgemm", benchSgemm),
    ("engine", benchEngine),
    ("models", benchModels),
    ("models.resolutions", benchResolutions),
    ("distill", benchDistill),
    ("evaluator", benchEvaluator),
    ("queue", runQueueBench),   // needs DATABASE_URL (eval "$(ops/pg env)")
] + engineParts

// `all` runs each top-level area once (the engine's parts are also runnable alone).
let topLevel = areas.filter { !$0.name.contains(".") }

if let n = ProcessInfo.processInfo.environment["MSCM_BENCH_THREADS"].flatMap(Int.init), n > 0 {
    BLAS.threads = n
    Parallel.maxChunks = n
}

let requested = CommandLine.arguments.dropFirst().first ?? "all"
if requested == "all" {
    for area in topLevel { area.run() }
} else if let area = areas.first(where: { $0.name == requested }) {
    area.run()
} else {
    FileHandle.standardError.write("mscm-bench: unknown area '\(requested)' (choose one of: \(areas.map(\.name).joined(separator: ", ")), all)\n".data(using: .utf8)!)
    exit(2)
}
