import Foundation
import XCTest
@testable import JobQueue

/// In-process workers against a real PostgreSQL, with 2 s leases.
final class WorkerTests: QueueTestCase {
    /// 8 workers race over 200 jobs: every job runs exactly once, on its first attempt.
    func testEightRacingWorkersNeverRunAJobTwice() throws {
        for _ in 0..<200 { try store.submit(NewJob(kind: "test-record")) }
        for i in 0..<8 { try startWorker(config("w\(i)", poll: 0.05)) }
        try eventually(30, "all 200 jobs succeeded") { try store.counts()[.succeeded] == 200 }
        let runs = Recorder.shared.all
        XCTAssertEqual(runs.count, 200)
        XCTAssertEqual(Set(runs.map(\.job)).count, 200)
        XCTAssertTrue(runs.allSatisfy { $0.attempt == 1 })
        XCTAssertGreaterThan(Set(runs.map(\.owner)).count, 1, "the work was shared")
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM jobs WHERE attempt <> 1 OR cardinality(attempted_by) <> 1").first!.int("n"), 0)
    }

    /// Attempt a waits delay(a) = min(cap, base·2^(a−1))·(1 − 0.2u) before the next claim,
    /// measured on the database's clock from the failure to the next claim.
    func testRetriesBackOffAsSpecified() throws {
        let sink = LogSink()
        var c = config("w", poll: 0.02, sink: sink)
        c.retry = RetryPolicy(base: 0.4, cap: 5, jitter: 0.2)
        try startWorker(c)
        let id = try store.submit(NewJob(kind: "test-flaky", spec: ["fail": 2], maxAttempts: 3)).id
        try eventually(10, "the flaky job succeeded") { try job(id).state == .succeeded }
        let j = try job(id)
        XCTAssertEqual(j.attempt, 3)
        XCTAssertEqual(j.result, ["attempt": 3])
        let failedAt = try db.query("""
            SELECT (e->>'attempt')::int AS a, extract(epoch FROM (e->>'at')::timestamptz)::float8 AS t
            FROM jobs, jsonb_array_elements(errors) e WHERE id = $1 ORDER BY 1
            """, [String(id)]).map { $0.double("t")! }
        XCTAssertEqual(failedAt.count, 2)
        let claims = Recorder.shared.all.filter { $0.job == id }.sorted { $0.attempt < $1.attempt }.map(\.claimedAt)
        XCTAssertEqual(claims.count, 3)
        for a in 1...2 {
            let waited = claims[a] - failedAt[a - 1]
            let d = c.retry.ceiling(afterAttempt: a)
            XCTAssertGreaterThanOrEqual(waited, 0.8 * d, "attempt \(a) retried too early")
            XCTAssertLessThan(waited, d + 1.0, "attempt \(a) retried too late")
        }
        // Out of attempts: failed, with every attempt's error kept.
        let doomed = try store.submit(NewJob(kind: "test-flaky", spec: ["fail": 9], maxAttempts: 2)).id
        try eventually(10, "the doomed job failed") { try job(doomed).state == .failed }
        let d = try job(doomed)
        XCTAssertEqual(d.attempt, 2)
        XCTAssertEqual(d.errors.array?.count, 2)
        XCTAssertEqual(d.error, "flaky failure on attempt 2")
        XCTAssertNotNil(d.finishedAt)
    }

    func testCancelReachesARunningHandlerWhichCheckpoints() throws {
        try startWorker(config("w"))
        let id = try store.submit(NewJob(kind: "test-loop")).id
        try eventually(5, "the loop is running") { (try job(id).progress?["iteration"]?.int ?? 0) > 0 }
        let t0 = Date()
        XCTAssertEqual(try store.cancel(id), .requested)
        try eventually(3, "the running job was cancelled") { try job(id).state == .cancelled }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 3)
        let j = try job(id)
        XCTAssertGreaterThan(j.checkpoint?.step ?? 0, 0, "the handler checkpointed before stopping")
        XCTAssertEqual(j.attempt, 1)
        // A queued job is cancelled before any worker sees it.
        let later = try store.submit(NewJob(kind: "test-record", delay: 0.5)).id
        XCTAssertEqual(try store.cancel(later), .cancelled)
        Thread.sleep(forTimeInterval: 0.8)
        XCTAssertEqual(try job(later).state, .cancelled)
        XCTAssertFalse(Recorder.shared.all.contains { $0.job == later })
    }

    /// Stop: the running handler checkpoints, the job goes back without spending an attempt,
    /// and the next worker resumes from the checkpoint.
    func testGracefulStopGivesTheJobBackAndAnotherWorkerResumes() throws {
        let sink = LogSink()
        let a = try startWorker(config("A", sink: sink))
        let id = try store.submit(NewJob(kind: "test-loop", maxAttempts: 1)).id
        try eventually(5, "the loop is running") { (try job(id).progress?["iteration"]?.int ?? 0) >= 5 }
        a.stop()
        a.wait()
        let back = try job(id)
        XCTAssertEqual(back.state, .queued)
        XCTAssertEqual(back.maxAttempts, 2, "the given-back attempt is not counted")
        let step = try XCTUnwrap(back.checkpoint?.step)
        XCTAssertGreaterThanOrEqual(step, 5)
        XCTAssertTrue(sink.all.contains { $0.contains("job \(id) test-loop attempt 1/1 given back to the queue (worker shutting down)") },
                      sink.all.joined(separator: "\n"))
        try startWorker(config("B"))
        eventually(5, "B resumed the job") { Recorder.shared.all.contains { $0.job == id && $0.owner == "B" } }
        XCTAssertEqual(Recorder.shared.all.last?.resumedFrom, step)
        XCTAssertEqual(try store.cancel(id), .requested)
        try eventually(3, "cancelled") { try job(id).state == .cancelled }
    }

    /// A NOTIFY wakes an idle worker at once although its poll interval is 30 s; poll-only
    /// mode still finds the job by polling.
    func testNotifyWakesIdleWorkersAndPollingIsTheFallback() throws {
        try startWorker(config("listener", poll: 30))
        Thread.sleep(forTimeInterval: 0.5)  // idle, waiting on its 30 s poll
        let t0 = Date()
        let id = try store.submit(NewJob(kind: "test-record")).id
        try eventually(3, "claimed after NOTIFY") { try job(id).state == .succeeded }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2.0, "not the 30 s poll")

        var poller = config("poller", poll: 0.3)
        poller.listen = false
        poller.queues = ["polled"]
        try startWorker(poller)
        let p = try store.submit(NewJob(kind: "test-record", queue: "polled")).id
        try eventually(3, "claimed by polling") { try job(p).state == .succeeded }
    }

    /// When the lease is taken away (here: the row moved to another attempt behind the worker's
    /// back), the handler is stopped at its next check and the old attempt changes nothing.
    func testLostLeaseStopsTheHandler() throws {
        let sink = LogSink()
        try startWorker(config("w", lease: 1.5, sink: sink))
        let id = try store.submit(NewJob(kind: "test-loop")).id
        try eventually(5, "running") { try job(id).state == .running }
        try db.query("UPDATE jobs SET lease_expires_at = now() + interval '1 hour', attempt = attempt + 1, max_attempts = 5 WHERE id = $1",
                     [String(id)])
        eventually(3, "the worker noticed") { sink.all.contains { $0.contains("job \(id) test-loop attempt 1/3: lease lost") } }
        XCTAssertEqual(try job(id).attempt, 2, "the stale attempt wrote nothing")
        XCTAssertEqual(try job(id).state, .running)
    }

    /// Progress reaches the row at most once per second; the last report lands with the outcome.
    func testProgressIsThrottledToOneWritePerSecond() throws {
        let id = try store.submit(NewJob(kind: "test-record")).id
        let j = try XCTUnwrap(try store.claim(owner: "w", queues: ["default"], kinds: ["test-record"], lease: 30))
        let lease = Lease(job: id, attempt: j.attempt, owner: "w")
        let ctx = JobContext(job: j, lease: lease, signals: LeaseSignals(deadline: Clock.now + 30), handle: DBHandle(scratch.url))
        ctx.progress(iteration: 1, total: 10, loss: 0.5)
        ctx.progress(iteration: 2, total: 10, loss: 0.4)
        XCTAssertEqual(try job(id).progress?["iteration"], 1)
        Thread.sleep(forTimeInterval: 1.05)
        ctx.progress(iteration: 3, total: 10, loss: 0.3)
        let p = try XCTUnwrap(try job(id).progress)
        XCTAssertEqual(p["iteration"], 3)
        XCTAssertEqual(p["loss"], 0.3)
        let rate = try XCTUnwrap(p["rate"]?.double)
        XCTAssertEqual(rate, 2 / 1.05, accuracy: 0.3, "rate from this attempt's reports")
        XCTAssertEqual(try XCTUnwrap(p["eta"]?.double), 7 / rate, accuracy: 1e-6)
        ctx.progress(iteration: 4, total: 10)
        XCTAssertTrue(try store.finish(lease, .complete([:]), progress: ctx.latestProgress))
        XCTAssertEqual(try job(id).progress?["iteration"], 4)
    }

    /// A password in the connection string shows up nowhere in the worker's log, whether the
    /// database answers or not.
    func testPasswordsNeverReachTheLog() throws {
        var url = try XCTUnwrap(URLComponents(string: scratch.url))
        url.password = "SuperSecret1"  // the test server trusts local connections, so any password works
        let sink = LogSink()
        var c = config("w", sink: sink)
        c.conninfo = url.string!
        let w = try startWorker(c)
        let id = try store.submit(NewJob(kind: "test-record")).id
        try eventually(5, "ran") { try job(id).state == .succeeded }
        w.stop(); w.wait()
        url.port = 1  // nothing listens there
        var bad = config("unreachable", sink: sink)
        bad.conninfo = url.string!
        let u = try startWorker(bad)
        eventually(5, "the failure was logged") { sink.all.contains { $0.contains("database unavailable") } }
        u.stop(); u.wait()
        XCTAssertTrue(sink.all.contains { $0.contains("mscm:***@") }, sink.all.joined(separator: "\n"))
        XCTAssertFalse(sink.all.joined().contains("SuperSecret1"), sink.all.joined(separator: "\n"))
    }
}
