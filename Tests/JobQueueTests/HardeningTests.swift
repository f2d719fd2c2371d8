import Formats
import Foundation
import XCTest
@testable import JobQueue

/// Reads one artifact its spec names (pinned at submit) and returns its bytes.
struct ReadArtifactHandler: JobHandler {
    static let kind = "test-read"
    static let summary = "test"
    static let flags = [SpecFlag("model", .artifact(kind: nil), required: true, help: "what to read"),
                        SpecFlag("name", .outputName(prefix: false), help: "output name")]
    func run(_ ctx: JobContext) throws -> JSON {
        let ref = ctx.spec["model"]?.string ?? ""
        return ["read": .string(String(decoding: try ctx.getArtifact(ref), as: UTF8.self))]
    }
}

/// Stores its output under spec.name (which the test makes invalid or taken at run time).
struct StoreNamedHandler: JobHandler {
    static let kind = "test-store"
    static let summary = "test"
    static let flags = [SpecFlag("output", .string, required: true, help: "name")]
    func run(_ ctx: JobContext) throws -> JSON {
        Recorder.shared.add(ctx)
        try ctx.putArtifact(name: ctx.spec["output"]?.string ?? "", kind: "metrics", data: Data("\(ctx.attempt)".utf8))
        return [:]
    }
}

/// Checkpoints twice, then succeeds (or fails, when spec.fail).
struct CheckpointingHandler: JobHandler {
    static let kind = "test-checkpointing"
    static let summary = "test"
    static let flags = [SpecFlag("fail", .bool, help: "fail after checkpointing")]
    func run(_ ctx: JobContext) throws -> JSON {
        for step in 1...2 {
            let sha = try ctx.putArtifact(name: "ck-\(ctx.id)", kind: "test-checkpoint", data: Data("job \(ctx.id) step \(step)".utf8))
            try ctx.recordCheckpoint(step: step, artifact: sha)
        }
        if ctx.spec["fail"]?.bool == true { throw JobFailure.permanent("asked to fail") }
        return [:]
    }
}

/// Issue 15: no role, file or name can stop, crash or hijack other people's jobs. Each test
/// failed before its fix.
final class HardeningTests: QueueTestCase {
    let handlers: [any JobHandler.Type] = testHandlers + [ReadArtifactHandler.self, StoreNamedHandler.self, CheckpointingHandler.self]

    func run(_ c: WorkerConfig) throws -> Worker {
        let w = try Worker(config: c, handlers: handlers)
        w.start()
        addTeardownBlock { w.stop(); w.wait() }
        return w
    }

    func applyRoles() throws {
        guard let ops = ProjectDirectory.find("ops") else { throw XCTSkip("no ops/ directory (set MSCM_HOME)") }
        try db.execute(try String(contentsOf: ops.appendingPathComponent("roles.sql"), encoding: .utf8))
    }

    func url(as user: String) throws -> String {
        var c = try XCTUnwrap(URLComponents(string: scratch.url))
        c.user = user
        return c.string!
    }

    // MARK: 1. a NOTIFY is only a hint

    /// As the read-only role, `pg_notify('mscm_cancel', id)` used to end a running job as
    /// cancelled while its row said cancel_requested = false. Now the heartbeat reads the row.
    func testReadOnlyRoleCannotCancelByNotify() throws {
        try applyRoles()
        let id = try store.submit(NewJob(kind: "test-loop")).id
        try run(config("w", lease: 2))
        try eventually(10, "running") { (try job(id).progress?["iteration"]?.int ?? 0) > 5 }
        let ro = try PGConnection(try url(as: "mscm_readonly"))
        for _ in 0..<5 { try ro.query("SELECT pg_notify($1, $2)", [JobStore.cancelChannel, String(id)]) }
        let before = try job(id).progress?["iteration"]?.int ?? 0
        Thread.sleep(forTimeInterval: 1.5)
        let j = try job(id)
        XCTAssertEqual(j.state, .running, "a notification alone cancels nothing")
        XCTAssertGreaterThan(j.progress?["iteration"]?.int ?? 0, before, "the job kept running")
        // A real cancel (the row says so) still reaches the handler at once: the hint brings the
        // heartbeat forward instead of waiting for the next one.
        XCTAssertEqual(try store.cancel(id), .requested)
        try eventually(5, "cancelled") { try job(id).state == .cancelled }
    }

    // MARK: 3. names cannot be taken over; inputs are pinned

    func testNamesCannotBeTakenOverSilently() throws {
        let art = ArtifactStore(db)
        let v1 = try art.put(name: "teacherA", kind: "teacher", data: Data("good".utf8))
        XCTAssertThrowsError(try art.put(name: "teacherA", kind: "teacher", data: Data("evil".utf8))) { e in
            let a = e as? ArtifactError
            XCTAssertEqual(a?.permanent, true)
            XCTAssertTrue("\(e)".contains("is taken (kind teacher, sha256 \(v1.sha256.prefix(12)))"), "\(e)")
        }
        XCTAssertEqual(try art.data("teacherA"), Data("good".utf8))
        // Raw SQL by the worker role is refused by the trigger as well.
        try applyRoles()
        let w = try PGConnection(try url(as: "mscm_worker"))
        let evil = try ArtifactStore(w).put(name: "evil-blob", kind: "teacher", data: Data("evil".utf8))
        XCTAssertThrowsError(try w.query("INSERT INTO artifacts (name, kind, sha256, size) VALUES ('teacherA', 'teacher', $1, 4)", [evil.sha256])) {
            XCTAssertEqual(($0 as? PGError)?.sqlState, "23505", "\($0)")
        }
        // The same bytes again are fine (idempotent), and an explicit replace is allowed.
        XCTAssertEqual(try art.put(name: "teacherA", kind: "teacher", data: Data("good".utf8)).sha256, v1.sha256)
        let v2 = try art.put(name: "teacherA", kind: "teacher", data: Data("better".utf8), replace: true)
        XCTAssertEqual(try art.data("teacherA"), Data("better".utf8))
        XCTAssertNotEqual(v1.sha256, v2.sha256)
    }

    /// A job submitted while `model` named v1 reads v1, even after the name was pointed at v2.
    func testSubmittedJobsArePinnedToWhatTheirNamesMeantAtSubmit() throws {
        let art = ArtifactStore(db)
        let v1 = try art.put(name: "model", kind: "teacher", data: Data("v1".utf8))
        var new = NewJob(kind: "test-read", spec: ["model": "model"])
        try ReadArtifactHandler.prepare(&new, artifacts: art)
        XCTAssertEqual(new.spec["model"]?.string, v1.sha256)
        XCTAssertEqual(new.inputs, [PinnedInput(key: "model", ref: "model", sha256: v1.sha256)])
        let id = try store.submit(new).id
        try art.put(name: "model", kind: "teacher", data: Data("v2".utf8), replace: true)
        XCTAssertEqual(try job(id).inputs, [["key": "model", "ref": "model", "sha256": .string(v1.sha256)]])
        try run(config("w"))
        try eventually(10, "done") { try job(id).state == .succeeded }
        XCTAssertEqual(try job(id).result?["read"], "v1")
    }

    // MARK: 4. outputs are checked at submit; errors a retry cannot fix are permanent

    func testOutputNamesAreCheckedAtSubmit() throws {
        let art = ArtifactStore(db)
        try art.put(name: "taken", kind: "teacher", data: Data("x".utf8))
        let input = try art.put(name: "in", kind: "teacher", data: Data("in".utf8))
        func problem(_ name: String) -> String? {
            do { try ReadArtifactHandler.validate(spec: ["model": .string(input.sha256), "name": .string(name)], artifacts: art); return nil }
            catch { return "\(error)" }
        }
        for bad in [String(repeating: "n", count: 100_000), "two\nlines", "bell\u{7}", "esc\u{1B}[31m", "deadbeef12", "", "taken"] {
            let p = problem(bad)
            XCTAssertNotNil(p, "accepted \(bad.prefix(20).debugDescription)")
            XCTAssertFalse(p?.contains("\n") ?? true, "one line: \(p ?? "")")
            XCTAssertLessThan(p?.count ?? 0, 400, "the error does not echo a huge name")
        }
        XCTAssertNil(problem("student-final"))
        // A worker re-checking the spec of a retried job does not trip over the job's own output.
        XCTAssertNoThrow(try ReadArtifactHandler.validate(spec: ["model": .string(input.sha256), "name": "taken"],
                                                          artifacts: RunTimeCatalog(store: art)))
    }

    /// An invalid output name used to fail, retry twice from the checkpoint and fail again;
    /// now the first failure is final.
    func testErrorsARetryCannotFixAreNotRetried() throws {
        let id = try store.submit(NewJob(kind: "test-store", spec: ["output": "a\nb"])).id
        try run(config("w"))
        try eventually(10, "failed") { try job(id).state == .failed }
        let j = try job(id)
        XCTAssertEqual(j.attempt, 1)
        XCTAssertEqual(Recorder.shared.all.count, 1)
        XCTAssertTrue(j.error?.contains("artifact name must be") == true, j.error ?? "")
    }

    // MARK: 5. storage is collected

    func testCheckpointsGoWhenTheJobSucceedsOrIsPruned() throws {
        let ok = try store.submit(NewJob(kind: "test-checkpointing")).id
        let failed = try store.submit(NewJob(kind: "test-checkpointing", spec: ["fail": true])).id
        try run(config("w"))
        try eventually(10, "both done") { try job(ok).state == .succeeded && job(failed).state == .failed }
        func checkpoints(_ id: Int64) throws -> Int {
            try db.query("SELECT count(*) AS n FROM artifacts WHERE job_id = $1 AND kind LIKE '%checkpoint'", [String(id)]).first!.int("n")!
        }
        XCTAssertNil(try job(ok).checkpoint)
        XCTAssertEqual(try checkpoints(ok), 0, "a succeeded job needs no checkpoint")
        XCTAssertEqual(try checkpoints(failed), 1, "a failed job keeps its newest checkpoint (retry resumes from it)")
        XCTAssertNotNil(try job(failed).checkpoint)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM blobs").first!.int("n"), 1, "only the failed job's checkpoint bytes remain")
        try db.query("UPDATE jobs SET finished_at = now() - interval '30 days'")
        XCTAssertEqual(try store.prune(olderThan: 86_400), 2)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM artifacts").first!.int("n"), 0)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM blobs").first!.int("n"), 0, "pruning took the checkpoint's bytes")
    }

    func testGarbageCollectionAndDelete() throws {
        let art = ArtifactStore(db)
        // What pruning used to leave behind: checkpoint artifacts of no job, and bytes nothing names.
        try art.put(name: "orphan-checkpoint", kind: "distill-checkpoint", data: Data("old state".utf8))
        try db.query("INSERT INTO blobs (sha256, size, chunk_size, chunks) VALUES ($1, 0, 1, 0)", [String(repeating: "a", count: 64)])
        let keep = try art.put(name: "teacher", kind: "teacher", data: Data("weights".utf8))
        let c = try art.collectGarbage()
        XCTAssertEqual(c, ArtifactStore.Collected(artifacts: 1, blobs: 2, bytes: Int64("old state".utf8.count)))
        XCTAssertEqual(try art.list().map(\.name), ["teacher"])
        // Delete refuses while an unfinished job reads the bytes, then deletes name and bytes.
        var new = NewJob(kind: "test-read", spec: ["model": "teacher"])
        try ReadArtifactHandler.prepare(&new, artifacts: art)
        let id = try store.submit(new).id
        XCTAssertThrowsError(try art.delete("teacher")) { XCTAssertTrue("\($0)".contains("read by job \(id)"), "\($0)") }
        _ = try store.cancel(id)
        XCTAssertEqual(try art.delete("teacher").map(\.sha256), [keep.sha256])
        XCTAssertNil(try art.info("teacher"))
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM blobs").first!.int("n"), 0)
        XCTAssertThrowsError(try art.delete("teacher"))
    }

    // MARK: 6. a lost database never spends an attempt

    /// The worker loses the database for longer than its lease. Whether the lease is rescued
    /// before the worker comes back (`rescueFirst`) or the worker gives the job back first, the
    /// attempt is not spent — it used to depend on that race.
    func testDatabaseOutageNeverSpendsAnAttempt() throws {
        try applyRoles()
        for rescueFirst in [true, false] {
            let role = "mscm_outage_\(UInt32.random(in: 0...UInt32.max))"
            try db.execute("CREATE ROLE \(role) LOGIN IN ROLE mscm_worker")
            defer {
                _ = try? db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [role])
                Thread.sleep(forTimeInterval: 0.2)
                _ = try? db.execute("DROP ROLE IF EXISTS \(role)")
            }
            let id = try store.submit(NewJob(kind: "test-loop")).id
            var c = config("cut-off-\(rescueFirst)", lease: 1, poll: 0.1)
            c.conninfo = try url(as: role)
            c.maintenance = rescueFirst ? 3600 : 0.2  // its own rescuer stays out of the first case
            let w = try run(c)
            try eventually(10, "running") { (try job(id).progress?["iteration"]?.int ?? 0) > 3 }
            XCTAssertEqual(try job(id).attempt, 1)
            try db.execute("ALTER ROLE \(role) NOLOGIN")
            try db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [role])
            Thread.sleep(forTimeInterval: 2.5)  // > the lease: it expires in the database
            if rescueFirst {
                XCTAssertEqual(try store.rescueExpired().map(\.state), [.queued])
            }
            try db.execute("ALTER ROLE \(role) LOGIN")
            try eventually(15, "running again") { let j = try job(id); return j.state == .running && j.attempt == 2 }
            let j = try job(id)
            XCTAssertEqual(j.maxAttempts - j.attempt, 3 - 1, "rescueFirst=\(rescueFirst): the lost attempt was not counted")
            w.stop()
            try eventually(10, "given back") { try job(id).state == .queued }
            _ = try store.cancel(id)
        }
    }

    // MARK: 7. the smaller ones

    func testLimitsSurfaceAsOneLineBeforeAnySQL() throws {
        XCTAssertThrowsError(try store.submit(NewJob(kind: "test-record", delay: 99_999_999_999 * 86_400))) {
            XCTAssertTrue("\($0)".hasPrefix("delay must be at most"), "\($0)")
        }
        XCTAssertThrowsError(try store.submit(NewJob(kind: "test-record", uniqueKey: String(repeating: "k", count: 3000)))) {
            XCTAssertEqual("\($0)", "unique key must be 1–1000 bytes, got 3000")
        }
        XCTAssertEqual(Durations.format(99_999_999_999 * 86_400), "8639999999913600.0s", "no trap on huge durations")
        XCTAssertEqual(try store.counts()[.queued] ?? 0, 0)
    }

    /// An unencoded '@' in a password made libpq print the rest of it as a host name.
    func testUnencodedAtInPasswordIsNotEchoed() {
        XCTAssertThrowsError(try PGConnection("postgresql://user:pa@ssw0rd-secret@127.0.0.1:1/db")) { e in
            XCTAssertFalse("\(e)".contains("ssw0rd"), "\(e)")
            XCTAssertTrue("\(e)".contains("%40"), "\(e)")
        }
    }

    func testScratchFoldersOfDeadProcessesAreSwept() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let dead = dir.appendingPathComponent("mscm-distill-7.p\(p.processIdentifier).abc")
        let alive = dir.appendingPathComponent("mscm-distill-8.p\(getpid()).abc")
        for d in [dead, alive] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        XCTAssertEqual(ScratchSpace.sweepStale(in: dir), 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: alive.path))
    }
}
