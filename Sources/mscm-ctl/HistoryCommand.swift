import CommandLineKit
import Formats
import Foundation
import JobQueue
import Jobs

/// `mscm-ctl history JOB`: a job's training curve — iteration, loss and the validation figures
/// it measured — as a table, `--json` or `--csv`.
let historyCommand = Command(
    name: "history",
    summary: "A job's training curve: iteration, loss, validation figures (table, --json or --csv).",
    usage: "mscm-ctl history JOB [--json | --csv]",
    flags: [.bool("json", "print a JSON array of {iteration, attempt, at, figures…}"),
            .bool("csv", "print CSV: iteration, attempt, then one column per figure")]
) { flags in
    let id = try jobID(flags, "history")
    if flags.bool("json") && flags.bool("csv") { throw UsageError("mscm-ctl history: give --json or --csv, not both") }
    let store = try JobStore(database())
    guard try store.get(id) != nil else { throw UsageError("mscm-ctl history: no job \(id)") }
    let points = try store.history(id)
    if flags.bool("json") {
        printJSON(.array(points.map { p in
            .object(["iteration": .int(p.iteration), "attempt": .int(p.attempt), "at": .string(ISOTime.format(p.at))]
                    .merging(p.figures) { a, _ in a })
        }))
        return
    }
    if points.isEmpty { print("job \(id) has no history (it reported no loss yet)"); return }
    // Loss first, then the other figures in name order.
    let names = Set(points.flatMap { $0.figures.keys }).sorted { ($0 == "loss" ? "" : $0) < ($1 == "loss" ? "" : $1) }
    func cell(_ v: JSON?) -> String {
        guard let v else { return "" }
        if let d = v.double { return String(format: "%.6g", d) }
        return v.string ?? v.serialized
    }
    if flags.bool("csv") {
        print((["iteration", "attempt"] + names).joined(separator: ","))
        for p in points { print(([String(p.iteration), String(p.attempt)] + names.map { cell(p.figures[$0]) }).joined(separator: ",")) }
        return
    }
    var rows = [["ITERATION", "ATTEMPT"] + names.map { $0.uppercased() }]
    for p in points { rows.append([String(p.iteration), String(p.attempt)] + names.map { cell(p.figures[$0]) }) }
    print(table(rows))
}
