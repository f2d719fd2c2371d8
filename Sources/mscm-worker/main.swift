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
let flagSpec: [FlagSpec] = [
    .value("queues", "LIST", "comma-separated queues to take jobs from [default: default]"),
    .value("kinds", "LIST", "comma-separated job kinds to run [default: all: \(JobRegistry.kinds.joined(separator: ", "))]"),
    .value("concurrency", "N", "jobs run at once, each on its own thread and connection [default 1]"),
    .value("id", "NAME", "this worker's name in leases, logs and attempted_by [default host-pid]"),
    .value("lease", "SECONDS", "lease length; heartbeats renew it every third of it [default 30]"),
    .value("poll", "SECONDS", "idle slots look for work this often without a NOTIFY [default 2]"),
    .bool("no-listen", "poll only (behind a transaction-pooling proxy, where LISTEN does not work)"),
    .value("retry-base", "SECONDS", "backoff after attempt a is min(cap, base·2^(a−1)) less up to 20 % jitter [default 10]"),
    .value("retry-cap", "SECONDS", "longest backoff [default 3600]"),
    .value("retention", "DURATION", "prune jobs finished longer ago than this, e.g. 7d; 0 = never [default 7d]"),
    .value("isolation", "MODE", "process: each job in a child process, so a job that crashes fails alone with its cause; "
           + "thread: jobs in the worker's threads [default process]"),
    .value("max-rescues", "N", "a job whose lease expired this many times fails (1…100) [default \(JobLifecycle.defaultMaxRescues)]"),
]

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

func list(_ s: String?) -> [String]? {
    s.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
}

let worker: Worker
do {
    let flags = try Flags(args, spec: flagSpec, command: "mscm-worker")
    if let extra = flags.positional.first { throw UsageError("mscm-worker: unexpected argument '\(extra)'") }
    var config = WorkerConfig(id: flags.string("id", default: WorkerConfig.defaultID))
    if let q = list(flags.string("queues")) { config.queues = q }
    config.kinds = list(flags.string("kinds"))
    config.concurrency = try flags.int("concurrency", default: 1, range: 1...256)!
    config.lease = try flags.double("lease", default: 30, range: 0.5...86_400)!
    config.poll = try flags.double("poll", default: 2, range: 0.01...3600)!
    config.listen = !flags.bool("no-listen")
    let base = try flags.double("retry-base", default: 10, range: 0.001...86_400)!
    let cap = try flags.double("retry-cap", default: max(3600, base), range: base...(30 * 86_400))!
    config.retry = RetryPolicy(base: base, cap: cap)
    if let r = flags.string("retention") {
        guard let secs = Durations.parse(r) else { throw UsageError("mscm-worker: --retention must be a duration like 7d or 12h, got '\(r)'") }
        config.retention = secs
    }
    config.maxRescues = try flags.int("max-rescues", default: JobLifecycle.defaultMaxRescues, range: 1...100)!
    switch flags.string("isolation") ?? "process" {
    case "process":
        config.isolation = .process(executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path)
    case "thread": config.isolation = .thread
    case let other: throw UsageError("mscm-worker: --isolation must be process or thread, got '\(other)'")
    }
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
