import CommandLineKit
import Foundation
import JobQueue
import Jobs

/// `mscm-ctl workers`: who is working — every live worker process (or all, with --all), the
/// queues and kinds it takes, its concurrency, the jobs it holds, its last heartbeat, version.
let workersCommand = Command(
    name: "workers",
    summary: "List live workers: id, host, queues, kinds, concurrency, the jobs they hold, last heartbeat, version.",
    usage: "mscm-ctl workers [--all] [--json]",
    flags: [.bool("all", "also workers that stopped or stopped heartbeating (kept for a day)"),
            .bool("json", "print a JSON array")]
) { flags in
    if let extra = flags.positional.first { throw UsageError("mscm-ctl workers: unexpected argument '\(extra)'") }
    let all = try WorkerStore(database()).list(all: flags.bool("all"))
    if flags.bool("json") { printJSON(.array(all.map(\.json))); return }
    if all.isEmpty { print(flags.bool("all") ? "no workers" : "no live workers (mscm-ctl workers --all shows those gone)"); return }
    let t = now()
    var rows = [["ID", "HOST", "STATE", "QUEUES", "KINDS", "SLOTS", "JOBS", "HEARTBEAT", "VERSION"]]
    for w in all {
        let state = w.live ? "live" : w.stoppedAt != nil ? "stopped" : "lost"
        rows.append([w.id.debugDescription.dropFirst().dropLast().description, w.host, state, w.queues.joined(separator: ","),
                     w.kinds.joined(separator: ","), String(w.concurrency),
                     w.jobs.isEmpty ? "-" : w.jobs.map(String.init).joined(separator: ","), "\(short(t - w.heartbeatAt)) ago", w.version])
    }
    print(table(rows))
}
