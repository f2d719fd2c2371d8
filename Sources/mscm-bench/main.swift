import Formats
import Foundation
import JobQueue
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

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") || arguments.first == "help" {
    print("""
        usage: mscm-bench [AREA]   (default: all)

        Release-mode benchmarks of this machine; each prints figures to compare run to run.

        areas:
        \(areas.map { "  " + $0.name }.joined(separator: "\n"))
          all        every top-level area once

        environment: MSCM_BENCH_CLOCK=cpu times CPU work instead of wall-clock time;
        MSCM_BENCH_THREADS=N caps the threads; queue needs DATABASE_URL.
        """)
    exit(0)
}
if arguments.count > 1 {
    FileHandle.standardError.write("mscm-bench: give one area, got \(arguments.count) arguments (see mscm-bench --help)\n".data(using: .utf8)!)
    exit(2)
}
let requested = arguments.first ?? "all"
if requested == "all" {
    for area in topLevel { area.run() }
} else if let area = areas.first(where: { $0.name == requested }) {
    area.run()
} else {
    let names = areas.map(\.name) + ["all"]
    let hint = TerminalText.nearest(requested, among: names).map { "did you mean '\($0)'? " } ?? ""
    FileHandle.standardError.write("mscm-bench: unknown area '\(TerminalText.escaped(requested))' (\(hint)choose one of: \(names.joined(separator: ", ")))\n".data(using: .utf8)!)
    exit(2)
}
