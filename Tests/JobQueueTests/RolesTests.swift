import Foundation
import XCTest
@testable import JobQueue

/// ops/roles.sql against a real server: the worker role can run the whole queue and nothing
/// more; the read-only role can read and nothing more. Connects as each role for real.
final class RolesTests: QueueTestCase {
    func connect(as user: String) throws -> PGConnection {
        var c = try XCTUnwrap(URLComponents(string: scratch.url))
        c.user = user
        return try PGConnection(c.string!)
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard let ops = ProjectDirectory.find("ops") else { throw XCTSkip("no ops/ directory (set MSCM_HOME)") }
        let script = try String(contentsOf: ops.appendingPathComponent("roles.sql"), encoding: .utf8)
        try db.execute(script)
        try db.execute(script)  // re-running is harmless
    }

    func testWorkerRoleRunsTheQueueButCannotChangeTheSchema() throws {
        let w = try connect(as: "mscm_worker")
        let store = JobStore(w)
        let id = try store.submit(NewJob(kind: "test-record", uniqueKey: "k")).id
        let j = try XCTUnwrap(try store.claim(owner: "w", queues: ["default"], kinds: ["test-record"], lease: 30))
        let lease = Lease(job: id, attempt: j.attempt, owner: "w")
        XCTAssertEqual(try store.heartbeat([lease], lease: 30), [lease: false])
        XCTAssertTrue(try store.setProgress(lease, ["iteration": 1]))
        XCTAssertTrue(try store.appendLog(lease, "hello"))
        let art = ArtifactStore(w, chunkSize: 3)
        let sha = try art.put(name: "ck", kind: "checkpoint", data: Data("checkpoint".utf8), lease: lease).sha256
        XCTAssertTrue(try store.recordCheckpoint(lease, step: 1, artifact: sha))
        XCTAssertEqual(try art.data("ck"), Data("checkpoint".utf8))
        // A newer checkpoint drops the superseded one, which the role may do only this way.
        let sha2 = try art.put(name: "ck", kind: "checkpoint", data: Data("checkpoint 2".utf8), lease: lease).sha256
        XCTAssertTrue(try store.recordCheckpoint(lease, step: 2, artifact: sha2))
        XCTAssertEqual(try art.list(name: "ck").map(\.sha256), [sha2])
        XCTAssertTrue(try store.finish(lease, .complete(["ok": true])))
        XCTAssertEqual(try store.rescueExpired(), [])
        try ScheduleStore(w).add(Schedule(name: "s", rule: .every(seconds: 60), job: NewJob(kind: "test-record")))
        try w.execute("UPDATE schedules SET next_run_at = now() - interval '1 minute'")
        XCTAssertEqual(try ScheduleStore(w).fireDue().count, 1)
        XCTAssertEqual(try store.cancel(id), .alreadyFinished(.succeeded))
        try w.query("UPDATE jobs SET finished_at = now() - interval '30 days' WHERE id = $1", [String(id)])
        XCTAssertEqual(try store.prune(olderThan: 86_400), 1)

        for sql in ["CREATE TABLE evil (x int)", "DROP TABLE jobs", "TRUNCATE jobs", "ALTER TABLE jobs ADD COLUMN x int",
                    "DELETE FROM blobs", "UPDATE blob_chunks SET data = ''", "UPDATE artifacts SET name = 'x'",
                    "DELETE FROM schema_migrations", "ALTER TABLE jobs DISABLE TRIGGER jobs_state_transition",
                    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                    // Issue 15: the worker role may not rewrite a job's spec, erase the event log,
                    // delete jobs except through pruning, or collect garbage.
                    "DELETE FROM job_events", "UPDATE job_events SET message = 'x'", "UPDATE jobs SET spec = '{}'",
                    "UPDATE jobs SET kind = 'sleep'", "UPDATE jobs SET inputs = '[]'", "DELETE FROM jobs",
                    "SELECT * FROM mscm_collect_garbage()"] {
            XCTAssertThrowsError(try w.execute(sql), sql) { e in
                XCTAssertTrue(["42501", "42P01"].contains((e as? PGError)?.sqlState ?? ""), "\(sql): \(e)")
            }
        }
    }

    func testReadOnlyRoleReadsEverythingAndChangesNothing() throws {
        try store.submit(NewJob(kind: "test-record"))
        try ArtifactStore(db).put(name: "a", kind: "metrics", data: Data("x".utf8))
        let r = try connect(as: "mscm_readonly")
        XCTAssertEqual(try JobStore(r).list().count, 1)
        XCTAssertEqual(try ArtifactStore(r).data("a"), Data("x".utf8))
        XCTAssertEqual(try r.query("SELECT count(*) AS n FROM job_events").first!.int("n"), 1)
        for sql in ["INSERT INTO jobs (kind) VALUES ('test-record')", "UPDATE jobs SET priority = 1", "DELETE FROM jobs",
                    "INSERT INTO schedules (name, kind, every_seconds, next_run_at) VALUES ('x', 'test-record', 60, now())",
                    "CREATE TEMP TABLE t (x int)"] {
            XCTAssertThrowsError(try r.execute(sql), sql) { e in
                XCTAssertTrue(["42501", "25006"].contains((e as? PGError)?.sqlState ?? ""), "\(sql): \(e)")
            }
        }
        XCTAssertThrowsError(try JobStore(r).submit(NewJob(kind: "test-record")))
    }
}
