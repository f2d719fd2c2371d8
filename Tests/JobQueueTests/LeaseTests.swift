import Foundation
import XCTest
@testable import JobQueue

/// Leases, heartbeats, fencing and rescue at the SQL level.
final class LeaseTests: QueueTestCase {
    func claim(_ owner: String, lease: Double = 30) throws -> Job {
        try XCTUnwrap(try store.claim(owner: owner, queues: ["default"], kinds: ["test-record"], lease: lease))
    }

    func expire(_ id: Int64) throws {
        try db.query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [String(id)])
    }

    /// A new checkpoint deletes the one it supersedes (artifact and bytes), but never bytes
    /// that another artifact still names.
    func testNewCheckpointDeletesTheSupersededOne() throws {
        let id = try store.submit(NewJob(kind: "test-record")).id
        let a = try claim("A")
        let lease = Lease(job: id, attempt: a.attempt, owner: "A")
        let artifacts = ArtifactStore(db)
        let first = try artifacts.put(name: "run-checkpoint", kind: "test-checkpoint", data: Data("one".utf8), lease: lease).sha256
        XCTAssertTrue(try store.recordCheckpoint(lease, step: 1, artifact: first))
        let second = try artifacts.put(name: "run-checkpoint", kind: "test-checkpoint", data: Data("two".utf8), lease: lease).sha256
        XCTAssertTrue(try store.recordCheckpoint(lease, step: 2, artifact: second))
        XCTAssertEqual(try artifacts.list(name: "run-checkpoint").map(\.sha256), [second])
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM blobs WHERE sha256 = $1", [first]).first!.int("n"), 0)
        // The same bytes kept under another name survive the next supersession.
        _ = try artifacts.put(name: "kept", kind: "weights", data: Data("two".utf8))
        let third = try artifacts.put(name: "run-checkpoint", kind: "test-checkpoint", data: Data("three".utf8), lease: lease).sha256
        XCTAssertTrue(try store.recordCheckpoint(lease, step: 3, artifact: third))
        XCTAssertEqual(try artifacts.list(name: "run-checkpoint").map(\.sha256), [third])
        XCTAssertEqual(try artifacts.data("kept"), Data("two".utf8))
        XCTAssertEqual(try job(id).checkpoint?.step, 3)
    }

    /// Worker A's lease expires, the job is rescued and B claims it; every write A then makes —
    /// progress, log, checkpoint, artifact, heartbeat, outcome — is refused and the row is
    /// exactly as B left it.
    func testStaleWorkersLateWritesAreRefused() throws {
        let id = try store.submit(NewJob(kind: "test-record")).id
        let a = try claim("A")
        let stale = Lease(job: id, attempt: a.attempt, owner: "A")
        XCTAssertTrue(try store.setProgress(stale, ["iteration": 1]))
        try expire(id)
        XCTAssertEqual(try store.rescueExpired().map(\.state), [.queued])
        let b = try claim("B")
        XCTAssertEqual(b.attempt, 2)
        let fresh = Lease(job: id, attempt: 2, owner: "B")
        XCTAssertTrue(try store.setProgress(fresh, ["iteration": 7]))
        let sha = try ArtifactStore(db).put(name: "ck", kind: "checkpoint", data: Data("b".utf8), lease: fresh).sha256
        XCTAssertTrue(try store.recordCheckpoint(fresh, step: 7, artifact: sha))
        let before = try job(id).json

        XCTAssertFalse(try store.setProgress(stale, ["iteration": 99]))
        XCTAssertFalse(try store.appendLog(stale, "late line"))
        XCTAssertFalse(try store.recordCheckpoint(stale, step: 99, artifact: sha))
        XCTAssertEqual(try store.heartbeat([stale], lease: 30), [:])
        for action in [FinishAction.complete(["stale": true]), .fail("stale"), .retry(after: 1, error: "stale"), .cancel, .giveBack("stale")] {
            XCTAssertFalse(try store.finish(stale, action, progress: ["iteration": 100]), "\(action)")
        }
        XCTAssertThrowsError(try ArtifactStore(db).put(name: "late", kind: "checkpoint", data: Data("a".utf8), lease: stale)) {
            XCTAssertEqual(($0 as? JobCancelled)?.reason, .leaseLost)
        }
        XCTAssertEqual(try job(id).json, before, "the stale worker changed nothing")
        XCTAssertTrue(try ArtifactStore(db).list(name: "late").isEmpty)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM job_events WHERE message = 'late line'").first!.int("n"), 0)
        // B, the holder, still can.
        XCTAssertTrue(try store.finish(fresh, .complete(["by": "B"])))
        XCTAssertEqual(try job(id).result, ["by": "B"])
    }

    func testHeartbeatRenewsTheLeaseAndReportsCancel() throws {
        let id = try store.submit(NewJob(kind: "test-record")).id
        let j = try claim("A", lease: 5)
        let lease = Lease(job: id, attempt: j.attempt, owner: "A")
        let t0 = try XCTUnwrap(j.leaseExpiresAt)
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(try store.heartbeat([lease], lease: 60), [lease: false])
        XCTAssertGreaterThan(try XCTUnwrap(try job(id).leaseExpiresAt), t0 + 50)
        _ = try store.cancel(id)
        XCTAssertEqual(try store.heartbeat([lease], lease: 60), [lease: true])
    }

    /// Rescue sends an expired job back to the queue without spending its attempt (even its
    /// last one), to failed on its `maxRescues`-th rescue, to cancelled when cancel was
    /// requested — JobLifecycle.afterLeaseExpired, in SQL.
    func testRescueFollowsTheLifecycle() throws {
        for (maxAttempts, maxRescues, cancel) in [(3, 5, false), (1, 5, false), (3, 1, false), (3, 5, true), (1, 1, true)] {
            let id = try store.submit(NewJob(kind: "test-record", maxAttempts: maxAttempts)).id
            _ = try claim("A")
            if cancel { _ = try store.cancel(id) }
            let unexpired = try store.rescueExpired(maxRescues: maxRescues)
            XCTAssertTrue(unexpired.isEmpty, "a live lease is not rescued")
            try expire(id)
            let r = try store.rescueExpired(maxRescues: maxRescues)
            let want = JobLifecycle.afterLeaseExpired(rescues: 0, maxRescues: maxRescues, cancelRequested: cancel)
            XCTAssertEqual(r, [JobStore.Rescued(id: id, attempt: 1, state: want, owner: "A")])
            let after = try job(id)
            XCTAssertEqual(after.state, want)
            XCTAssertEqual(after.rescues, 1)
            XCTAssertNil(after.leaseOwner)
            XCTAssertEqual(after.errors.array?.first?["worker"], "A")
            XCTAssertTrue(after.error?.contains("lease expired") == true)
            if want == .queued {
                XCTAssertEqual(after.maxAttempts, maxAttempts + 1, "the attempt is not counted")
                XCTAssertEqual(try store.cancel(id), .cancelled)  // out of the next round's way
            }
            if want == .failed { XCTAssertTrue(after.error?.contains("see that worker's log") == true, after.error ?? "") }
        }
    }

    /// The lifecycle's decisions, without a socket.
    func testFinishDecisions() {
        let p = RetryPolicy(base: 10, cap: 100, jitter: 0.2)
        func f(_ o: AttemptOutcome, _ a: Int, _ m: Int, cancel: Bool = false) -> FinishAction {
            JobLifecycle.finish(o, attempt: a, maxAttempts: m, cancelRequested: cancel, retry: p, u: 0.5)
        }
        XCTAssertEqual(f(.succeeded([:]), 1, 3), .complete([:]))
        XCTAssertEqual(f(.succeeded([:]), 1, 3, cancel: true), .complete([:]), "it finished before it heard")
        XCTAssertEqual(f(.failed("e", permanent: false), 1, 3), .retry(after: 9, error: "e"))
        XCTAssertEqual(f(.failed("e", permanent: false), 2, 3), .retry(after: 18, error: "e"))
        XCTAssertEqual(f(.failed("e", permanent: false), 3, 3), .fail("e"))
        XCTAssertEqual(f(.failed("e", permanent: true), 1, 3), .fail("e"))
        XCTAssertEqual(f(.failed("e", permanent: false), 1, 3, cancel: true), .cancel)
        XCTAssertEqual(f(.stopped(.cancelRequested), 1, 3), .cancel)
        XCTAssertEqual(f(.stopped(.shutdown), 3, 3), .giveBack("worker shutting down"))
        XCTAssertEqual(f(.stopped(.shutdown), 1, 3, cancel: true), .cancel)
        XCTAssertEqual(f(.stopped(.leaseLost), 1, 3), .giveBack("lease lost"))
        XCTAssertEqual(f(.interrupted("db"), 1, 3), .giveBack("db"))
        XCTAssertEqual(JobLifecycle.afterLeaseExpired(rescues: 3, maxRescues: 5, cancelRequested: false), .queued)
        XCTAssertEqual(JobLifecycle.afterLeaseExpired(rescues: 4, maxRescues: 5, cancelRequested: false), .failed)
        XCTAssertEqual(JobLifecycle.afterLeaseExpired(rescues: 0, maxRescues: 5, cancelRequested: true), .cancelled)
        XCTAssertFalse(JobLifecycle.allows(.succeeded, .queued))
        XCTAssertTrue(JobLifecycle.allows(.running, .queued))
    }

    /// Giving a job back does not spend an attempt, even on its last one.
    func testGiveBackKeepsTheAttemptBudget() throws {
        let id = try store.submit(NewJob(kind: "test-record", maxAttempts: 1)).id
        let j = try claim("A")
        XCTAssertTrue(try store.finish(Lease(job: id, attempt: j.attempt, owner: "A"), .giveBack("shutdown")))
        let after = try job(id)
        XCTAssertEqual(after.state, .queued)
        XCTAssertEqual(after.maxAttempts, 2)
        XCTAssertEqual(try claim("B").attempt, 2)
    }
}
