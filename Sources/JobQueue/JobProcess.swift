import Formats
import Foundation

/// Each job in a process of its own, supervised by the worker (`WorkerConfig.isolation =
/// .process`, what `mscm-worker` does by default).
///
/// Why: a handler that traps — a Swift runtime check on an input no validation caught, a
/// kernel bug — kills its process. In-thread, that is the whole worker: every other job it ran
/// dies with it, and all the queue sees is anonymous lease expiries. In a child process, the
/// worker watches the child die, records the job `failed` with the signal and the runtime's
/// last words ("Fatal error: …"), and its other jobs go on.
///
/// The worker keeps the lease (its keeper heartbeats for the child) and relays what it hears
/// on the child's stdin, one byte each: `c` cancel requested, `s` shutting down, `l` lease lost.
/// EOF on stdin means the worker died: the child exits at once, and the job's lease expires
/// and is rescued as if the worker had been killed with it. The child ignores SIGTERM/SIGINT
/// (a service manager signals the whole group; the worker decides). It runs the handler with
/// its own database connection, writes the outcome as JSON to a file the worker names, and
/// exits; the worker writes the outcome (fenced, as for an in-thread handler). The child's
/// TMPDIR is a folder the worker removes after the child ends, however it ended.
public enum JobProcess {
    static let cancelByte = UInt8(ascii: "c"), shutdownByte = UInt8(ascii: "s"), lostByte = UInt8(ascii: "l")

    // MARK: worker side

    /// Runs `job` in a child process and waits for it, relaying the lease's signals. Returns
    /// the attempt's outcome and the handler's last progress report.
    static func supervise(_ job: Job, lease: Lease, signals: LeaseSignals, executable: String,
                          config: WorkerConfig) -> (AttemptOutcome, JSON?) {
        let scratch: URL
        do { scratch = try ScratchSpace.make(prefix: "job-\(job.id)-\(job.attempt)") } catch {
            return (.failed("cannot make the job's scratch folder: \(error)", permanent: false), nil)
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outcomeFile = scratch.appendingPathComponent("outcome.json")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["--run-job", String(job.id), "--attempt", String(job.attempt), "--owner", lease.owner,
                       "--outcome", outcomeFile.path]
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = scratch.path
        if !config.conninfo.isEmpty { env["DATABASE_URL"] = config.conninfo }
        p.environment = env
        let control = Pipe(), output = Pipe()
        p.standardInput = control
        p.standardOutput = output
        p.standardError = output
        let tail = OutputTail(lines: 40)
        let prefix = "job \(job.id): "
        let reader = Thread { [log = config.log] in
            let h = output.fileHandleForReading
            var pending = Data()
            while true {
                let chunk = h.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    pending = Data(pending[pending.index(after: nl)...])
                    tail.add(line)
                    log(prefix + line)
                }
            }
            if !pending.isEmpty { let line = String(decoding: pending, as: UTF8.self); tail.add(line); log(prefix + line) }
            tail.close()
        }
        do { try p.run() } catch {
            return (.failed("cannot start the job's process \(executable): \(error)", permanent: false), nil)
        }
        // Process.run closed our copy of the pipe's write end: the reader sees EOF when the child exits.
        reader.start()
        var sent = Set<UInt8>()
        func send(_ b: UInt8) {
            guard sent.insert(b).inserted else { return }
            try? control.fileHandleForWriting.write(contentsOf: Data([b]))
        }
        while p.isRunning {
            if signals.isLost { send(lostByte) }
            if signals.cancelRequested { send(cancelByte) }
            if signals.stopReason == .shutdown { send(shutdownByte) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.waitUntilExit()
        try? control.fileHandleForWriting.close()
        tail.waitClosed(timeout: 5)
        if let data = try? Data(contentsOf: outcomeFile), let reported = try? decode(data) {
            return reported
        }
        let last = tail.cause()
        if p.terminationReason == .uncaughtSignal {
            let sig = p.terminationStatus
            let what = signalName(sig)
            // A trap is deterministic: the same input would crash every retry. A SIGKILL may be
            // the kernel's out-of-memory killer or an operator, which a retry can outlive.
            let permanent = sig != SIGKILL
            let kindOfDeath = [SIGILL, SIGTRAP].contains(sig) ? " (a Swift runtime trap)" : sig == SIGKILL ? " (killed: out of memory, or by an operator)" : ""
            return (.failed("the job's process crashed with \(what)\(kindOfDeath)" + (last.map { ": \($0)" } ?? "")
                            + "; the worker's log has its output", permanent: permanent), nil)
        }
        return (.failed("the job's process exited with status \(p.terminationStatus) without an outcome"
                        + (last.map { ": \($0)" } ?? ""), permanent: false), nil)
    }

    static func signalName(_ s: Int32) -> String {
        let names: [Int32: String] = [SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS",
                                      SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGTERM: "SIGTERM"]
        return names[s] ?? "signal \(s)"
    }

    // MARK: child side

    /// The child: loads the job (which must still be running as `attempt` under `owner`), runs
    /// its handler and writes the outcome to `outcomeFile`. Returns the exit status.
    public static func runChild(handlers: [any JobHandler.Type], jobID: Int64, attempt: Int, owner: String,
                                outcomeFile: String, conninfo: String = PGConnection.defaultConnectionString) -> Int32 {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let signals = LeaseSignals(deadline: .infinity)
        let listener = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { _exit(75) }  // the worker is gone: its lease will expire and be rescued
                switch byte {
                case cancelByte: signals.requestCancel()
                case shutdownByte: signals.requestShutdown()
                case lostByte: signals.markLost()
                default: break
                }
            }
        }
        listener.start()
        let handle = DBHandle(conninfo)
        let outcome: AttemptOutcome
        var progress: JSON? = nil
        do {
            guard let job = try handle.with({ try JobStore($0).get(jobID) }),
                  job.state == .running, job.attempt == attempt, job.leaseOwner == owner else {
                outcome = .stopped(.leaseLost)
                return write((outcome, nil), to: outcomeFile)
            }
            let ctx = JobContext(job: job, lease: Lease(job: jobID, attempt: attempt, owner: owner), signals: signals, handle: handle)
            outcome = Worker.runHandler(handlers.first { $0.kind == job.kind }, job, ctx)
            progress = ctx.latestProgress
        } catch {
            outcome = error.isConnectionLoss ? .interrupted("database connection lost: \(Worker.oneLine(error))")
                                             : .failed(Worker.oneLine(error), permanent: false)
        }
        return write((outcome, progress), to: outcomeFile)
    }

    // MARK: the outcome file

    static func encode(_ o: AttemptOutcome, progress: JSON?) -> JSON {
        var j: [String: JSON] = ["progress": progress ?? .null]
        switch o {
        case .succeeded(let r): j["outcome"] = "succeeded"; j["result"] = r
        case .failed(let e, let permanent): j["outcome"] = "failed"; j["error"] = .string(e); j["permanent"] = .bool(permanent)
        case .stopped(let why): j["outcome"] = "stopped"; j["reason"] = .string(why.rawValue)
        case .interrupted(let e): j["outcome"] = "interrupted"; j["error"] = .string(e)
        }
        return .object(j)
    }

    struct BadOutcome: Error {}

    static func decode(_ data: Data) throws -> (AttemptOutcome, JSON?) {
        let j = try JSON.parse(String(decoding: data, as: UTF8.self))
        let progress = j["progress"].flatMap { $0.isNull ? nil : $0 }
        switch j["outcome"]?.string {
        case "succeeded": return (.succeeded(j["result"] ?? .null), progress)
        case "failed": return (.failed(j["error"]?.string ?? "unknown error", permanent: j["permanent"]?.bool ?? false), progress)
        case "stopped":
            guard let why = j["reason"]?.string.flatMap(StopReason.init(rawValue:)) else { throw BadOutcome() }
            return (.stopped(why), progress)
        case "interrupted": return (.interrupted(j["error"]?.string ?? "database connection lost"), progress)
        default: throw BadOutcome()
        }
    }

    static func write(_ r: (AttemptOutcome, JSON?), to path: String) -> Int32 {
        let data = Data(encode(r.0, progress: r.1).serialized.utf8)
        do { try AtomicFile.write(data, to: URL(fileURLWithPath: path)) } catch {
            FileHandle.standardError.write(Data("cannot write the outcome to \(path)\n".utf8))
            return 1
        }
        return 0
    }
}

/// The last lines a child printed, for the cause of a crash.
final class OutputTail {
    private let cond = NSCondition()
    private var lines: [String] = []
    private var closed = false
    private let keep: Int

    init(lines: Int) { keep = lines }

    func add(_ line: String) {
        cond.lock(); lines.append(line); if lines.count > keep { lines.removeFirst() }; cond.unlock()
    }

    func close() { cond.lock(); closed = true; cond.broadcast(); cond.unlock() }

    func waitClosed(timeout: Double) {
        cond.lock(); defer { cond.unlock() }
        let until = Date(timeIntervalSinceNow: timeout)
        while !closed { if !cond.wait(until: until) { return } }
    }

    /// The runtime's own account of a crash ("Fatal error: …", "Program crashed: …") if it
    /// printed one, else the last non-empty line.
    func cause() -> String? {
        cond.lock(); defer { cond.unlock() }
        let trimmed = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let line = trimmed.first { $0.contains("Fatal error") } ?? trimmed.first { $0.contains("Program crashed") } ?? trimmed.last
        return line.map { String($0.prefix(300)) }
    }
}

/// Scratch folders of jobs: `<tmp>/mscm-<what>.p<pid>.<random>`, so that folders left by a
/// process that died (SIGKILL leaves no chance to clean up) can be found and removed.
public enum ScratchSpace {
    public static func make(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mscm-\(prefix).p\(getpid()).\(String(UInt64.random(in: 0...UInt64.max), radix: 16))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Removes scratch folders in `directory` whose process no longer exists; returns how many.
    @discardableResult
    public static func sweepStale(in directory: URL = FileManager.default.temporaryDirectory) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix("mscm-") {
            let parts = name.split(separator: ".")
            guard parts.count >= 3, parts[parts.count - 2].hasPrefix("p"),
                  let pid = Int32(parts[parts.count - 2].dropFirst()), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                if (try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))) != nil { removed += 1 }
            }
        }
        return removed
    }
}
