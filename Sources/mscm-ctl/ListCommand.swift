import CommandLineKit
import Foundation
import JobQueue
import Jobs

let listCommand = Command(
    name: "list",
    summary: "List jobs, newest first.",
    usage: "mscm-ctl list [--state S] [--kind K] [--queue Q] [--limit N] [--json]",
    flags: [.value("state", "STATE", "only jobs in this state (\(JobState.allCases.map(\.rawValue).joined(separator: "|")))"),
            .value("kind", "KIND", "only jobs of this kind"),
            .value("queue", "QUEUE", "only jobs of this queue"),
            .value("limit", "N", "at most N jobs (1…10000) [default 50]"),
            .bool("json", "print a JSON array of jobs")]
) { flags in
    if let extra = flags.positional.first { throw UsageError("mscm-ctl list: unexpected argument '\(extra)'") }
    var state: JobState? = nil
    if let s = flags.string("state") {
        guard let st = JobState(rawValue: s) else {
            throw UsageError("mscm-ctl list: --state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")), got '\(s)'")
        }
        state = st
    }
    let limit = try flags.int("limit", default: 50, range: 1...10_000)!
    let jobs = try JobStore(database()).list(state: state, kind: flags.string("kind"), queue: flags.string("queue"), limit: limit)
    if flags.bool("json") { printJSON(.array(jobs.map(\.json))); return }
    if jobs.isEmpty { print("no jobs"); return }
    let t = now()
    var rows = [["ID", "KIND", "STATE", "ATTEMPT", "QUEUE", "PRI", "AGE", "PROGRESS / ERROR"]]
    for j in jobs {
        var detail = progressText(j.progress)
        if j.state == .failed || (j.state == .queued && j.error != nil) { detail = j.error ?? "" }
        if j.state == .queued && j.runAt > t + 0.5 { detail = "runs in \(short(j.runAt - t))" + (j.error.map { " — \($0)" } ?? "") }
        rows.append([String(j.id), j.kind, j.state.rawValue, "\(j.attempt)/\(j.maxAttempts)", j.queue, String(j.priority),
                     short(t - j.createdAt), detail.replacingOccurrences(of: "\n", with: "; ")])
    }
    // On a terminal each line is cut to its width (the last column gives way); piped, whole.
    print(table(rows))
}
