import Foundation
import XCTest
@testable import JobQueue

/// The queue's SQL against a real PostgreSQL: submission, claim order and filters, cancel,
/// retry, pruning, and the schema's own rules.
final class JobStoreTests: QueueTestCase {
    func claim(_ owner: String = "w", queues: [String] = ["default"], kinds: [String] = ["test-record"]) throws -> Job? {
        try store.claim(owner: owner, queues: queues, kinds: kinds, lease: 30)
    }

    func testClaimTakesHighestPriorityThenOldestAndBumpsAttempt() throws {
        let a = try store.submit(NewJob(kind: "test-record", priority: 5)).id
        let b = try store.submit(NewJob(kind: "test-record", priority: 1)).id
        let c = try store.submit(NewJob(kind: "test-record", priority: 5)).id
        let later = try store.submit(NewJob(kind: "test-record", priority: 0, delay: 3600)).id
        let order = try (0..<3).map { _ in try XCTUnwrap(try claim("w1")) }
        XCTAssertEqual(order.map(\.id), [b, a, c])
        XCTAssertNil(try claim(), "the delayed job is not runnable yet")
        let j = try job(b)
        XCTAssertEqual(j.state, .running)
        XCTAssertEqual(j.attempt, 1)
        XCTAssertEqual(j.leaseOwner, "w1")
        XCTAssertEqual(j.attemptedBy, ["w1"])
        XCTAssertEqual(try job(later).state, .queued)
    }

    func testClaimHonoursQueuesAndKinds() throws {
        let other = try store.submit(NewJob(kind: "test-record", queue: "gpu")).id
        let flaky = try store.submit(NewJob(kind: "test-flaky")).id
        XCTAssertNil(try claim())
        XCTAssertEqual(try claim(queues: ["default", "gpu"])?.id, other)
        XCTAssertEqual(try claim(kinds: ["test-record", "test-flaky"])?.id, flaky)
    }

    /// The claim stays an index scan on jobs_claim with many finished jobs in the table
    /// (mscm-bench queue measures it with 1M).
    func testClaimIsAnIndexScanWithManyFinishedJobs() throws {
        try db.execute("""
            INSERT INTO jobs (kind, state, attempt, started_at, finished_at)
            SELECT 'test-record', 'succeeded', 1, now(), now() FROM generate_series(1, 20000);
            INSERT INTO jobs (kind) SELECT 'test-record' FROM generate_series(1, 20);
            ANALYZE jobs;
            """)
        let plan = try db.query("""
            EXPLAIN SELECT id FROM jobs
            WHERE state = 'queued' AND run_at <= now() AND queue = ANY($1::text[]) AND kind = ANY($2::text[])
            ORDER BY priority, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
            """, ["{default}", "{test-record}"]).rows.map { $0[0]! }.joined(separator: "\n")
        XCTAssertTrue(plan.contains("Index Scan using jobs_claim"), plan)
        XCTAssertFalse(plan.contains("Seq Scan"), plan)
        XCTAssertNotNil(try claim())
    }

    /// Racing submissions with one unique key insert one job; everyone gets its id.
    func testUniqueKeyMakesSubmissionIdempotentUnderRace() throws {
        let url = scratch.url
        let lock = NSLock()
        var results: [JobStore.Submitted] = []
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let c = try! PGConnection(url)
            let r = try! JobStore(c).submit(NewJob(kind: "test-record", uniqueKey: "nightly-2026-01-01"))
            lock.withLock { results.append(r) }
        }
        XCTAssertEqual(Set(results.map(\.id)).count, 1)
        XCTAssertEqual(results.filter(\.created).count, 1)
        XCTAssertEqual(try store.counts()[.queued], 1)
    }

    func testCancelQueuedIsImmediateAndNeverRuns() throws {
        let id = try store.submit(NewJob(kind: "test-record")).id
        XCTAssertEqual(try store.cancel(id), .cancelled)
        let j = try job(id)
        XCTAssertEqual(j.state, .cancelled)
        XCTAssertNotNil(j.finishedAt)
        XCTAssertNil(try claim())
        XCTAssertEqual(try store.cancel(id), .alreadyFinished(.cancelled))
        XCTAssertEqual(try store.cancel(999_999), .notFound)
    }

    func testCancelRunningRequestsAndNotifies() throws {
        let listener = try scratch.connect()
        try listener.execute("LISTEN \(JobStore.cancelChannel)")
        let id = try store.submit(NewJob(kind: "test-record")).id
        _ = try claim()
        XCTAssertEqual(try store.cancel(id), .requested)
        XCTAssertEqual(try job(id).state, .running)
        XCTAssertTrue(try job(id).cancelRequested)
        let notes = try listener.waitForNotifications(timeout: 2)
        XCTAssertEqual(notes.map(\.payload), [String(id)])
    }

    func testRetryRequeuesFailedAndCancelledButNotSucceeded() throws {
        let id = try store.submit(NewJob(kind: "test-record", maxAttempts: 1)).id
        let j = try XCTUnwrap(try claim())
        XCTAssertTrue(try store.finish(Lease(job: id, attempt: j.attempt, owner: "w"), .fail("boom")))
        XCTAssertEqual(try job(id).state, .failed)
        XCTAssertEqual(try store.retry(id), .queued)
        let again = try job(id)
        XCTAssertEqual(again.state, .queued)
        XCTAssertNil(again.finishedAt)
        XCTAssertEqual(again.maxAttempts, 2, "one more attempt than spent")
        let k = try XCTUnwrap(try claim())
        XCTAssertEqual(k.attempt, 2)
        XCTAssertTrue(try store.finish(Lease(job: id, attempt: 2, owner: "w"), .complete(["x": 1])))
        XCTAssertEqual(try store.retry(id), .refused(.succeeded))
        XCTAssertEqual(try store.retry(424_242), .notFound)
    }

    func testPruneDeletesOnlyOldFinishedJobsWithTheirEvents() throws {
        let old = try store.submit(NewJob(kind: "test-record")).id
        let recent = try store.submit(NewJob(kind: "test-record")).id
        let queued = try store.submit(NewJob(kind: "test-record")).id
        for id in [old, recent] {
            let j = try XCTUnwrap(try claim())
            XCTAssertTrue(try store.finish(Lease(job: j.id, attempt: 1, owner: "w"), .complete([:])))
            _ = id
        }
        try db.query("UPDATE jobs SET finished_at = now() - interval '8 days' WHERE id = $1", [String(old)])
        XCTAssertEqual(try store.prune(olderThan: 7 * 86_400, batch: 1), 1)
        XCTAssertNil(try store.get(old))
        XCTAssertNotNil(try store.get(recent))
        XCTAssertNotNil(try store.get(queued))
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM job_events WHERE job_id = $1", [String(old)]).first!.int("n"), 0)
    }

    /// The trigger allows exactly JobLifecycle.allowed, tried pair by pair on real rows.
    func testDatabaseTransitionsMatchTheLifecycle() throws {
        for from in JobState.allCases {
            for to in JobState.allCases where to != from {
                let id = try store.submit(NewJob(kind: "test-record")).id
                // Put the row in `from` through the rules-respecting path of least resistance.
                try db.execute("ALTER TABLE jobs DISABLE TRIGGER jobs_state_transition")
                try db.query("""
                    UPDATE jobs SET state = $2::job_state, attempt = 1, lease_owner = CASE WHEN $2 = 'running' THEN 'w' END,
                        lease_expires_at = CASE WHEN $2 = 'running' THEN now() END,
                        finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() END WHERE id = $1
                    """, [String(id), from.rawValue])
                try db.execute("ALTER TABLE jobs ENABLE TRIGGER jobs_state_transition")
                var ok = true
                do {
                    try db.query("""
                        UPDATE jobs SET state = $2::job_state, lease_owner = CASE WHEN $2 = 'running' THEN 'w' END,
                            lease_expires_at = CASE WHEN $2 = 'running' THEN now() END,
                            finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() END WHERE id = $1
                        """, [String(id), to.rawValue])
                } catch let e as PGError {
                    XCTAssertTrue(e.message.contains("no transition from"), e.message)
                    ok = false
                }
                XCTAssertEqual(ok, JobLifecycle.allows(from, to), "\(from) → \(to)")
            }
        }
    }

    func testCheckConstraintsHoldTheInvariants() throws {
        let id = String(try store.submit(NewJob(kind: "test-record")).id)
        let violations = [
            "UPDATE jobs SET finished_at = now() WHERE id = $1",                      // finished but queued
            "UPDATE jobs SET priority = 10 WHERE id = $1",
            "UPDATE jobs SET attempt = 3 WHERE id = $1",                              // queued with no attempts left
            "UPDATE jobs SET state = 'running' WHERE id = $1",                        // running without a lease
            "UPDATE jobs SET checkpoint_step = 3 WHERE id = $1",                      // step without artifact
        ]
        for sql in violations {
            XCTAssertThrowsError(try db.query(sql, [id]), sql) { XCTAssertEqual(($0 as? PGError)?.sqlState, "23514", "\($0)") }
        }
        XCTAssertThrowsError(try db.query("INSERT INTO jobs (kind) VALUES ('Bad Kind')"))
    }
}
