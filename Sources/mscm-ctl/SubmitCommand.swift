import CommandLineKit
import Formats
import Foundation
import JobQueue
import Jobs

/// `mscm-ctl submit <kind> [kind flags]`: the kind's flags become its spec, which is checked
/// (types, ranges, artifacts) before anything is written; then one row and a NOTIFY.
let submitCommand = Command(
    name: "submit",
    summary: "Submit a job: mscm-ctl submit <kind> [flags] (kinds: \(JobRegistry.kinds.joined(separator: ", "))).",
    usage: "mscm-ctl submit <kind> [kind flags] [--queue Q] [--priority P] [--max-attempts N] [--delay D] [--unique-key K] [--json]",
    flagsFor: { args in
        let common: [FlagSpec] = jobPlacementFlags + [
            .value("delay", "DURATION", "run no earlier than this from now, e.g. 90s, 10m [default 0]"),
            .value("unique-key", "KEY", "submit at most once per key: again returns the existing job"),
            .value("after", "JOB[,JOB…]", "run only after these jobs succeeded; cancelled if one of them fails or is cancelled"),
            .bool("json", "print {id, created} as JSON"),
        ]
        guard let kind = args.first, !kind.hasPrefix("-") else { return common }
        return common + (try handler(kind, "submit")).flags.map(\.flagSpec)
    }
) { flags in
    guard let kind = flags.positional.first else {
        throw UsageError("mscm-ctl submit: which kind? (known: \(JobRegistry.kinds.joined(separator: ", ")))")
    }
    if flags.positional.count > 1 { throw UsageError("mscm-ctl submit: unexpected argument '\(flags.positional[1])'") }
    let h = try handler(kind, "submit")
    let command = "mscm-ctl submit \(kind)"
    var job = NewJob(kind: kind, spec: try SpecFlag.spec(from: flags, table: h.flags, command: command))
    try place(&job, flags, "submit")
    if let d = flags.string("delay") {
        guard let secs = Durations.parse(d) else { throw UsageError("\(command): --delay must be a duration like 90s or 10m, got '\(d)'") }
        guard secs <= NewJob.maxDelay else { throw UsageError("\(command): --delay must be at most \(Durations.format(NewJob.maxDelay)), got '\(d)'") }
        job.delay = secs
    }
    if let k = flags.string("unique-key") {
        guard !k.isEmpty, k.utf8.count <= NewJob.maxUniqueKeyBytes else {
            throw UsageError("\(command): --unique-key must be 1–\(NewJob.maxUniqueKeyBytes) bytes, got \(k.utf8.count)")
        }
        job.uniqueKey = k
    }
    if let after = flags.string("after") {
        let ids = after.split(separator: ",", omittingEmptySubsequences: false).map { Int64($0.trimmingCharacters(in: .whitespaces)) }
        guard !ids.isEmpty, ids.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw UsageError("\(command): --after must be job ids separated by commas, got '\(after)'")
        }
        job.dependsOn = ids.compactMap { $0 }
    }
    let db = try database()
    // Submitting a key again returns its job whatever the spec says now (its output's name is
    // taken by then, by that very job).
    if let k = job.uniqueKey, let existing = try JobStore(db).job(uniqueKey: k) {
        if flags.bool("json") { printJSON(["id": .int(Int(existing.id)), "created": false]) }
        else { print("job \(existing.id) already exists for unique key '\(k)' (\(existing.state.rawValue)); nothing submitted") }
        return
    }
    try h.prepare(&job, artifacts: ArtifactStore(db))
    if kind == EvaluateJob.kind { warnUnknownWords(evaluateSpec: job.spec, db: db, command: command) }
    for d in job.dependsOn {
        switch try JobStore(db).get(d)?.state {
        case nil: throw UsageError("\(command): --after \(d): there is no job \(d)")
        case let s? where s == .failed || s == .cancelled:
            throw UsageError("\(command): --after \(d): job \(d) did not succeed (\(s.rawValue)); retry it first")
        default: break
        }
    }
    let r = try JobStore(db).submit(job)
    if flags.bool("json") {
        printJSON(["id": .int(Int(r.id)), "created": .bool(r.created)])
    } else if r.created {
        print("job \(r.id) queued (\(kind), queue \(job.queue)\(job.delay > 0 ? ", runs in \(Durations.format(job.delay))" : "")"
              + (job.dependsOn.isEmpty ? "" : ", after job\(job.dependsOn.count > 1 ? "s" : "") \(job.dependsOn.map(String.init).joined(separator: ", "))") + ")")
    } else {
        let state = try JobStore(db).get(r.id)?.state.rawValue ?? "pruned"
        print("job \(r.id) already exists for unique key '\(job.uniqueKey!)' (\(state)); nothing submitted")
    }
}
