import Formats
import Foundation
import XCTest
@testable import JobQueue

/// Polls `condition` every 20 ms until it holds; fails the test after `timeout` seconds.
func eventually(_ timeout: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () throws -> Bool) rethrows {
    let until = Date().addingTimeInterval(timeout)
    while Date() < until {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.02)
    }
    XCTFail("timed out after \(timeout) s waiting for: \(what)", file: file, line: line)
}

/// Collects a worker's log lines (thread-safe).
final class LogSink {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    /// Holds the sink strongly: workers may log after the test body returns (until tearDown).
    var log: (String) -> Void { { line in self.lock.withLock { self.lines.append(line) } } }
}

/// What test handlers did, in order (thread-safe, shared by every worker in the process).
final class Recorder {
    static let shared = Recorder()
    private let lock = NSLock()
    struct Run { let job: Int64; let attempt: Int; let owner: String; let claimedAt: Double; let resumedFrom: Int? }
    private var runs: [Run] = []
    func add(_ ctx: JobContext) {
        let r = Run(job: ctx.id, attempt: ctx.attempt, owner: ctx.lease.owner, claimedAt: ctx.job.attemptedAt ?? 0,
                    resumedFrom: ctx.checkpoint?.step)
        lock.withLock { runs.append(r) }
    }
    var all: [Run] { lock.withLock { runs } }
    func reset() { lock.withLock { runs = [] } }
}

/// Records its run, sleeps spec.ms, succeeds.
struct RecordHandler: JobHandler {
    static let kind = "test-record"
    static let summary = "test"
    static let flags = [SpecFlag("ms", .int(0...60_000), default: 0, help: "sleep")]
    func run(_ ctx: JobContext) throws -> JSON {
        Recorder.shared.add(ctx)
        if let ms = ctx.spec["ms"]?.int, ms > 0 { Thread.sleep(forTimeInterval: Double(ms) / 1000) }
        return ["ok": true]
    }
}

/// Fails its first `fail` attempts.
struct FlakyHandler: JobHandler {
    static let kind = "test-flaky"
    static let summary = "test"
    static let flags = [SpecFlag("fail", .int(0...100), default: 1, help: "failures")]
    func run(_ ctx: JobContext) throws -> JSON {
        Recorder.shared.add(ctx)
        if ctx.attempt <= ctx.spec["fail"]?.int ?? 0 { throw FlakyError(attempt: ctx.attempt) }
        return ["attempt": .int(ctx.attempt)]
    }
    struct FlakyError: Error, CustomStringConvertible {
        let attempt: Int
        var description: String { "flaky failure on attempt \(attempt)" }
    }
}

/// Counts iterations until stopped; on a stop it checkpoints the iteration and rethrows.
struct LoopHandler: JobHandler {
    static let kind = "test-loop"
    static let summary = "test"
    static let flags: [SpecFlag] = []
    func run(_ ctx: JobContext) throws -> JSON {
        Recorder.shared.add(ctx)
        var i = ctx.checkpoint?.step ?? 0
        do {
            while true {
                try ctx.checkCancelled()
                Thread.sleep(forTimeInterval: 0.01)
                i += 1
                ctx.progress(iteration: i)
            }
        } catch let c as JobCancelled {
            if c.reason != .leaseLost {
                let sha = try ctx.putArtifact(name: "loop-\(ctx.id)", kind: "checkpoint", data: Data("\(i)".utf8))
                try ctx.recordCheckpoint(step: i, artifact: sha)
            }
            throw c
        }
    }
}

let testHandlers: [any JobHandler.Type] = [RecordHandler.self, FlakyHandler.self, LoopHandler.self]

/// A scratch database with the project's migrations, dropped in tearDown, plus helpers to run
/// in-process workers against it with short leases.
class QueueTestCase: XCTestCase {
    var scratch: ScratchDatabase!
    var db: PGConnection!
    var store: JobStore { JobStore(db) }
    private var workers: [Worker] = []

    override func setUpWithError() throws {
        scratch = try ScratchDatabase()
        db = try scratch.migrated()
        Recorder.shared.reset()
    }

    override func tearDown() {
        for w in workers { w.stop() }
        for w in workers { w.wait() }
        workers = []
        db = nil
        scratch?.drop()
    }

    func config(_ id: String, lease: Double = 2, poll: Double = 0.2, sink: LogSink? = nil) -> WorkerConfig {
        var c = WorkerConfig(id: id)
        c.conninfo = scratch.url
        c.lease = lease
        c.poll = poll
        c.retry = RetryPolicy(base: 0.3, cap: 5, jitter: 0.2)
        c.log = sink?.log ?? { _ in }
        return c
    }

    @discardableResult
    func startWorker(_ c: WorkerConfig) throws -> Worker {
        let w = try Worker(config: c, handlers: testHandlers)
        w.start()
        workers.append(w)
        return w
    }

    func job(_ id: Int64) throws -> Job { try XCTUnwrap(try store.get(id)) }

    /// Seconds since the epoch by the database's clock.
    func dbNow() throws -> Double { try db.query("SELECT extract(epoch FROM clock_timestamp())::float8 AS t").first!.double("t")! }
}
