import Foundation

// mscm-bench: release-mode benchmarks that print figures to compare run to run.
// Run: swift run -c release mscm-bench [engine|sgemm|models|all] (default: all).
// Each area lives in its own file (EngineBench.swift, SgemmBench.swift, …) and registers here.

let areas: [(name: String, run: () -> Void)] = [
    ("sgemm", benchSgemm),
    ("engine", benchEngine),
    ("models", benchModels),
]

let requested = CommandLine.arguments.dropFirst().first ?? "all"
if requested == "all" {
    for area in areas { area.run() }
} else if let area = areas.first(where: { $0.name == requested }) {
    area.run()
} else {
    FileHandle.standardError.write("mscm-bench: unknown area '\(requested)' (choose one of: \(areas.map(\.name).joined(separator: ", ")), all)\n".data(using: .utf8)!)
    exit(2)
}
