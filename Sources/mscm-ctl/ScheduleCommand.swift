import CommandLineKit
import Foundation
import JobQueue
import Jobs

/// `schedule add|list|remove`. A schedule's spec is built and validated like `submit`'s.
/// Due times are UTC; after downtime the missed due times collapse into one job (ScheduleRule).
let scheduleCommand = Command(
    name: "schedule",
    summary: "Periodic jobs: schedule add NAME --kind K (--every 10m | --daily-at 03:00) [kind flags] | list | remove NAME.",
    usage: "mscm-ctl schedule add NAME (--every DURATION | --daily-at HH:MM) (--kind KIND | KIND) [flags] | schedule list [--json] | schedule remove NAME",
    flagsFor: { args in
        switch args.first {
        case "add":
            var f: [FlagSpec] = [.value("kind", "KIND", "job kind (\(JobRegistry.kinds.joined(separator: ", "))) [required]"),
                                 .value("every", "DURATION", "due at every multiple of this since the epoch: 30s, 10m, 2h, 1d"),
                                 .value("daily-at", "HH:MM", "due daily at this UTC time")] + jobPlacementFlags
            if let kind = rawValue("kind", in: args) ?? positionalKind(args) { f += try handler(kind, "schedule add").flags.map(\.flagSpec) }
            return f
        case "list": return [.bool("json", "print the schedules as JSON")]
        default: return []
        }
    }
) { flags in
    let p = flags.positional
    switch p.first {
    case "add":
        // The kind comes as --kind K or as the word after NAME: `schedule add NAME --every 24h evaluate …`.
        let positional = p.count == 3 && flags.string("kind") == nil ? p[2] : nil
        guard p.count == 2 || positional != nil else { throw UsageError("mscm-ctl schedule add: give one schedule NAME") }
        guard let kind = flags.string("kind") ?? positional else { throw UsageError("mscm-ctl schedule add: --kind is required") }
        let h = try handler(kind, "schedule add")
        let rule: ScheduleRule
        switch (flags.string("every"), flags.string("daily-at")) {
        case (let e?, nil):
            guard let r = ScheduleRule.parseEvery(e) else {
                throw UsageError("mscm-ctl schedule add: --every must be a whole number of s, m, h or d (1s…366d), got '\(e)'")
            }
            rule = r
        case (nil, let d?):
            guard let r = ScheduleRule.parseDaily(d) else { throw UsageError("mscm-ctl schedule add: --daily-at must be HH:MM (UTC), got '\(d)'") }
            rule = r
        default: throw UsageError("mscm-ctl schedule add: give exactly one of --every and --daily-at")
        }
        let name = p[1]
        guard name.range(of: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", options: .regularExpression) != nil else {
            throw UsageError("mscm-ctl schedule add: NAME must be letters, digits, '_', '.', '-' (≤ 63), got '\(name)'")
        }
        var job = NewJob(kind: kind, spec: try SpecFlag.spec(from: flags, table: h.flags, command: "mscm-ctl schedule add"))
        try place(&job, flags, "schedule add")
        let db = try database()
        try h.prepare(&job, artifacts: ArtifactStore(db))
        if kind == EvaluateJob.kind { warnUnknownWords(evaluateSpec: job.spec, db: db, command: "mscm-ctl schedule add") }
        let s = try ScheduleStore(db).add(Schedule(name: name, rule: rule, job: job))
        print("schedule \(s.name): \(kind) \(rule.description); next due \(ISOTime.format(s.nextRunAt))")
    case "list":
        let all = try ScheduleStore(database()).list()
        if flags.bool("json") {
            printJSON(.array(all.map { s in
                ["name": .string(s.name), "kind": .string(s.job.kind), "rule": .string(s.rule.description),
                 "queue": .string(s.job.queue), "priority": .int(s.job.priority), "spec": s.job.spec,
                 "next_run_at": .string(ISOTime.format(s.nextRunAt)),
                 "last_run_at": s.lastRunAt.map { .string(ISOTime.format($0)) } ?? .null,
                 "last_job": s.lastJobID.map { .int(Int($0)) } ?? .null]
            }))
            return
        }
        if all.isEmpty { print("no schedules"); return }
        var rows = [["NAME", "KIND", "RULE", "NEXT DUE", "LAST JOB", "SPEC"]]
        for s in all {
            rows.append([s.name, s.job.kind, s.rule.description, ISOTime.format(s.nextRunAt),
                         s.lastJobID.map { String($0) } ?? "-", s.job.spec.serialized])
        }
        print(table(rows))
    case "remove":
        guard p.count == 2 else { throw UsageError("mscm-ctl schedule remove: give one schedule NAME") }
        guard try ScheduleStore(database()).remove(p[1]) else { throw UsageError("mscm-ctl schedule remove: no schedule '\(p[1])'") }
        print("schedule \(p[1]) removed (jobs it made stay)")
    case let other?:
        throw UsageError("mscm-ctl schedule: unknown subcommand '\(other)' (add, list, remove)")
    case nil:
        throw UsageError("mscm-ctl schedule: add, list or remove?")
    }
}

/// The job kind given as a word in `schedule add NAME [placement flags] KIND [kind flags]`: the
/// first argument after NAME that is neither a flag nor the value of a placement flag.
func positionalKind(_ args: [String]) -> String? {
    let takesValue: Set<String> = ["--every", "--daily-at", "--queue", "--priority", "--max-attempts"]
    var words: [String] = []
    var i = 1
    while i < args.count {
        let a = args[i]
        if takesValue.contains(a) { i += 2; continue }
        if a.hasPrefix("-") { break }  // kind flags follow the kind
        words.append(a)
        i += 1
    }
    return words.count >= 2 ? words[1] : nil
}
