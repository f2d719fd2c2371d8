import Foundation
import Jobs

let statusCommand = Command(
    name: "status",
    summary: "Show one job: state, attempts, lease, progress, result or errors.",
    usage: "mscm-ctl status JOB [--json]",
    flags: [.bool("json", "print the job row as JSON")]
) { flags in
    let id = try jobID(flags, "status")
    guard let j = try JobStore(database()).get(id) else { throw UsageError("mscm-ctl status: no job \(id)") }
    if flags.bool("json") { printJSON(j.json); return }
    let t = now()
    var lines = ["job \(j.id)  \(j.kind)  \(j.state.rawValue)\(j.cancelRequested && !j.state.isFinal ? " (cancel requested)" : "")",
                 "  queue \(j.queue), priority \(j.priority), attempt \(j.attempt)/\(j.maxAttempts)"
                    + (j.rescues > 0 ? ", rescued \(j.rescues)×" : ""),
                 "  spec \(j.spec.serialized)",
                 "  created \(ISOTime.format(j.createdAt))"]
    for i in j.inputs.array ?? [] {
        let ref = (i["ref"]?.string ?? "?").debugDescription
        if let sha = i["sha256"]?.string {
            lines.append("  input \(i["key"]?.string ?? "?") = \(ref), pinned at submit to sha256 \(sha)")
        } else {
            lines.append("  input \(i["key"]?.string ?? "?") = \(ref), the output of that job once it succeeds")
        }
    }
    if !j.dependsOn.isEmpty {
        let store = try JobStore(database())
        let deps = try j.dependsOn.map { d in "\(d) (\(try store.get(d)?.state.rawValue ?? "pruned"))" }
        lines.append("  after job\(deps.count > 1 ? "s" : "") \(deps.joined(separator: ", "))")
    }
    if j.state == .queued, try !WorkerStore(database()).isServed(queue: j.queue, kind: j.kind) {
        lines.append("  no live worker takes \(j.kind) jobs from queue \(j.queue) (see mscm-ctl workers)")
    }
    if let u = j.uniqueKey { lines.append("  unique key \(u)") }
    if let s = j.scheduleName { lines.append("  from schedule \(s)" + (j.scheduledFor.map { " (due \(ISOTime.format($0)))" } ?? "")) }
    if j.state == .queued && j.runAt > t { lines.append("  runs at \(ISOTime.format(j.runAt)) (in \(short(j.runAt - t)))") }
    if j.state == .running, let owner = j.leaseOwner, let exp = j.leaseExpiresAt {
        lines.append("  running on \(owner), lease expires in \(short(exp - t))"
                     + (j.heartbeatAt.map { ", last heartbeat \(short(t - $0)) ago" } ?? ""))
    }
    if !j.attemptedBy.isEmpty { lines.append("  attempted by \(j.attemptedBy.joined(separator: ", "))") }
    if let p = j.progress, !progressText(p).isEmpty { lines.append("  progress \(progressText(p))") }
    if let c = j.checkpoint { lines.append("  checkpoint step \(c.step), artifact \(c.artifact.prefix(12))") }
    if let f = j.finishedAt { lines.append("  finished \(ISOTime.format(f))" + (j.startedAt.map { " after \(short(f - $0))" } ?? "")) }
    if let r = j.result { lines.append("  result \(r.serialized)") }
    for e in j.errors.array ?? [] {
        lines.append("  error (attempt \(e["attempt"]?.int ?? 0), \(e["worker"]?.string ?? "?")): \(e["error"]?.string ?? "")")
    }
    print(lines.joined(separator: "\n"))
}
