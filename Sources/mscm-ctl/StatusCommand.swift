import CommandLineKit
import Formats
import Foundation
import JobQueue
import Jobs

/// `status JOB`: a summary a person reads — state, placement, spec and result as `key  value`
/// lines (long lists counted, not dumped), errors one per attempt — every line escaped and cut
/// to the terminal's width. `--json` prints the whole row.
let statusCommand = Command(
    name: "status",
    summary: "Show one job: state, attempts, lease, progress, result or errors.",
    usage: "mscm-ctl status JOB [--json]",
    flags: [.bool("json", "print the whole job row as JSON")]
) { flags in
    let id = try jobID(flags, "status")
    // One connection for the job, its dependencies and the workers that might serve it.
    let db = try database()
    guard let j = try JobStore(db).get(id) else { throw UsageError("mscm-ctl status: no job \(id)") }
    if flags.bool("json") { printJSON(j.json); return }
    let t = now()
    var lines = ["job \(j.id)  \(j.kind)  \(j.state.rawValue)\(j.cancelRequested && !j.state.isFinal ? " (cancel requested)" : "")",
                 "  queue \(j.queue), priority \(j.priority), attempt \(j.attempt)/\(j.maxAttempts)"
                    + (j.rescues > 0 ? ", rescued \(j.rescues)×" : ""),
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
        let store = JobStore(db)
        let deps = try j.dependsOn.map { d in "\(d) (\(try store.get(d)?.state.rawValue ?? "pruned"))" }
        lines.append("  after job\(deps.count > 1 ? "s" : "") \(deps.joined(separator: ", "))")
    }
    if j.state == .queued, try !WorkerStore(db).isServed(queue: j.queue, kind: j.kind) {
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
    lines += fields("spec", j.spec)
    if let r = j.result { lines += fields("result", r) }
    for e in j.errors.array ?? [] {
        let text = (e["error"]?.string ?? "").replacingOccurrences(of: "\n", with: "; ")
        lines.append("  error (attempt \(e["attempt"]?.int ?? 0), \(e["worker"]?.string ?? "?")): \(text)")
    }
    if j.result != nil || !(j.errors.array ?? []).isEmpty { lines.append("  (the whole row: mscm-ctl status \(id) --json)") }
    let width = TerminalText.outputWidth()
    print(lines.map { terminalLine($0, width: width) }.joined(separator: "\n"))
}

/// "  spec" then one "    key  value" line per member of an object: scalars as they are, a
/// list of scalars joined by ", ", anything deeper summarised by its size.
func fields(_ title: String, _ v: JSON) -> [String] {
    guard let o = v.object else { return ["  \(title) \(v.serialized)"] }
    if o.isEmpty { return ["  \(title) (none)"] }
    let w = o.keys.map(\.count).max() ?? 0
    return ["  \(title)"] + o.keys.sorted().map { k in
        "    " + k.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + scalarText(o[k]!)
    }
}

func scalarText(_ v: JSON) -> String {
    switch v {
    case .null: return "—"
    case .string(let s): return s
    case .bool(let b): return b ? "yes" : "no"
    case .int(let i): return String(i)
    case .double(let d): return String(format: "%.6g", d)
    case .array(let a):
        if a.allSatisfy({ $0.object == nil && $0.array == nil }) { return a.map(scalarText).joined(separator: ", ") }
        return "\(a.count) item\(a.count == 1 ? "" : "s")"
    case .object(let o): return "\(o.count) field\(o.count == 1 ? "" : "s")"
    }
}
