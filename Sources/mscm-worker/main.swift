import CommandLineKit
import Formats
import Foundation
import JobQueue
import Jobs

// mscm-worker: claims jobs from the queue and runs their handlers until SIGTERM/SIGINT.
// A thin shell around JobQueue.Worker; the job kinds come from JobRegistry.
let about = """
    Run jobs from the mscm queue (DATABASE_URL or the PG* variables name the database).
    SIGTERM/SIGINT: stop claiming; running jobs checkpoint and go back to the queue; exit.
    A second signal exits at once (the leases then expire and other workers rescue the jobs).
    """

/// One worker setting, declared once: its flag and help — the default, `WorkerConfig`'s own
/// unless the command's differs, stands where the help says {default} — and how it sets the config.
struct WorkerSetting {
    let flag: FlagSpec
    let apply: (inout WorkerConfig, Flags) throws -> Void

    init(_ flag: FlagSpec, apply: @escaping (inout WorkerConfig, Flags) throws -> Void) { self.flag = flag; self.apply = apply }

    static func value(_ name: String, _ metavar: String, _ help: String, default shown: String,
                      apply: @escaping (inout WorkerConfig, Flags) throws -> Void) -> WorkerSetting {
        WorkerSetting(.value(name, metavar, help.replacingOccurrences(of: "{default}", with: shown)), apply: apply)
    }

    /// 30.0 as "30", 0.5 as "0.5".
    static func number(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : "\(d)" }
}

func list(_ s: String?) -> [String]? {
    s.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
}

/// The worker's defaults (its id aside): every setting's default comes from here.
let defaults = WorkerConfig(id: "")
/// The command runs each job in a child process unless told otherwise (the library's default is threads).
let defaultIsolation = "process"

let settings: [WorkerSetting] = [
    .value("queues", "LIST", "comma-separated queues to take jobs from [default: {default}]", default: defaults.queues.joined(separator: ",")) { c, f in
        if let q = list(f.string("queues")) { c.queues = q }
    },
    .value("kinds", "LIST", "comma-separated job kinds to run [default: all: {default}]", default: JobRegistry.kinds.joined(separator: ", ")) { c, f in
        c.kinds = list(f.string("kinds"))
    },
    .value("concurrency", "N", "jobs run at once, each on its own thread and connection [default {default}]", default: "\(defaults.concurrency)") { c, f in
        c.concurrency = try f.int("concurrency", default: defaults.concurrency, range: 1...256)!
    },
    // The id is read first, when the config is made.
    .value("id", "NAME", "this worker's name in leases, logs and attempted_by [default {default}]", default: "host-pid") { _, _ in },
    .value("lease", "SECONDS", "lease length; heartbeats renew it every third of it [default {default}]", default: WorkerSetting.number(defaults.lease)) { c, f in
        c.lease = try f.double("lease", default: defaults.lease, range: 0.5...86_400)!
    },
    .value("poll", "SECONDS", "idle slots look for work this often without a NOTIFY [default {default}]", default: WorkerSetting.number(defaults.poll)) { c, f in
        c.poll = try f.double("poll", default: defaults.poll, range: 0.01...3600)!
    },
    WorkerSetting(.bool("no-listen", "poll only (behind a transaction-pooling proxy, where LISTEN does not work)")) { c, f in
        c.listen = !f.bool("no-listen")
    },
    .value("retry-base", "SECONDS", "backoff after attempt a is min(cap, base·2^(a−1)) less up to \(Int(defaults.retry.jitter * 100)) % jitter [default {default}]",
           default: WorkerSetting.number(defaults.retry.base)) { c, f in
        let base = try f.double("retry-base", default: defaults.retry.base, range: 0.001...86_400)!
        c.retry = RetryPolicy(base: base, cap: max(defaults.retry.cap, base))
    },
    .value("retry-cap", "SECONDS", "longest backoff [default {default}]", default: WorkerSetting.number(defaults.retry.cap)) { c, f in
        let base = c.retry.base
        c.retry = RetryPolicy(base: base, cap: try f.double("retry-cap", default: max(defaults.retry.cap, base), range: base...(30 * 86_400))!)
    },
    .value("retention", "DURATION", "prune jobs finished longer ago than this, e.g. 7d; 0 = never [default {default}]", default: Durations.format(defaults.retention)) { c, f in
        if let r = f.string("retention") {
            guard let secs = Durations.parse(r) else { throw UsageError("mscm-worker: --retention must be a duration like 7d or 12h, got '\(r)'") }
            c.retention = secs
        }
    },
    .value("isolation", "MODE", "process: each job in a child process, so a job that crashes fails alone with its cause; "
           + "thread: jobs in the worker's threads [default {default}]", default: defaultIsolation) { c, f in
        switch f.string("isolation") ?? defaultIsolation {
        case "process":
            c.isolation = .process(executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path)
        case "thread": c.isolation = .thread
        case let other: throw UsageError("mscm-worker: --isolation must be process or thread, got '\(other)'")
        }
    },
    .value("max-rescues", "N", "a job whose lease expired this many times fails (1…100) [default {default}]", default: "\(defaults.maxRescues)") { c, f in
        c.maxRescues = try f.int("max-rescues", default: defaults.maxRescues, range: 1...100)!
    },
]
let flagSpec = settings.map(\.flag)

func fail(_ message: String) -> Never {
    FileHandle.standardError.write("mscm-worker: \(message)\n".data(using: .utf8)!)
    exit(2)
}

let args = Array(CommandLine.arguments.dropFirst())

// A child the worker started for one job (see JobProcess): not for people to run.
if args.first == "--run-job" {
    func value(_ flag: String) -> String? { args.firstIndex(of: flag).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    guard let id = args.dropFirst().first.flatMap({ Int64($0) }), let attempt = value("--attempt").flatMap({ Int($0) }),
          let owner = value("--owner"), let outcome = value("--outcome") else {
        fail("--run-job ID --attempt N --owner NAME --outcome FILE is the worker's own way to run a job")
    }
    exit(JobProcess.runChild(handlers: JobRegistry.all, jobID: id, attempt: attempt, owner: owner, outcomeFile: outcome))
}

if args.contains("--help") || args.contains("-h") {
    print("usage: mscm-worker [flags]\n\n\(about)\n\nflags:\n\(Flags.help(flagSpec))")
    exit(0)
}

let worker: Worker
do {
    let flags = try Flags(args, spec: flagSpec, command: "mscm-worker")
    if let extra = flags.positional.first { throw UsageError("mscm-worker: unexpected argument '\(extra)'") }
    var config = WorkerConfig(id: flags.string("id", default: WorkerConfig.defaultID))
    for setting in settings { try setting.apply(&config, flags) }
    worker = try Worker(config: config, handlers: JobRegistry.all)
} catch {
    fail("\(error)".replacingOccurrences(of: "mscm-worker: ", with: ""))
}

// Signals arrive on a dispatch queue; the main thread blocks in wait().
signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
let signalLock = NSLock()
var signalsSeen = 0
var sources: [DispatchSourceSignal] = []
for sig in [SIGTERM, SIGINT] {
    let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
    source.setEventHandler {
        let n = signalLock.withLock { () -> Int in signalsSeen += 1; return signalsSeen }
        if n > 1 {
            worker.config.log("second signal: exiting now; leases expire and other workers rescue the jobs")
            exit(1)
        }
        worker.stop()
    }
    source.resume()
    sources.append(source)
}

guard worker.waitForSchema() else { exit(0) }
worker.start()
worker.wait()
exit(0)
