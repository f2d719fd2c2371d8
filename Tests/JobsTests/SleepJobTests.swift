import Formats
import Foundation
import JobQueue
import XCTest
@testable import Jobs

/// The `sleep` kind on an in-process worker.
final class SleepJobTests: ScratchTestCase {
    var worker: Worker?

    override func tearDown() {
        worker?.stop()
        worker?.wait()
        super.tearDown()
    }

    func startWorker(lease: Double = 2) throws {
        var c = WorkerConfig(id: "w")
        c.conninfo = scratch.url
        c.lease = lease
        c.poll = 0.1
        c.retry = RetryPolicy(base: 0.2, cap: 1)
        c.log = { _ in }
        worker = try Worker(config: c, handlers: JobRegistry.all)
        worker!.start()
    }

    func submit(_ spec: JSON, maxAttempts: Int = 3) throws -> Int64 {
        try SleepJob.validate(spec: spec, artifacts: ArtifactStore(handle.get()))
        return try store.submit(NewJob(kind: "sleep", spec: spec, maxAttempts: maxAttempts)).id
    }

    func testSleepsReportsProgressLogsAndReturnsAResult() throws {
        try startWorker()
        let id = try submit(["seconds": 0.3, "steps": 3, "checkpoint_every": 0, "fail_attempts": 0])
        try eventually(5, "succeeded") { try job(id).state == .succeeded }
        let j = try job(id)
        XCTAssertEqual(j.progress?["iteration"], 3)
        XCTAssertEqual(j.progress?["total"], 3)
        XCTAssertEqual(j.result?["steps"], 3)
        XCTAssertEqual(j.result?["resumed_from"], 0)
        XCTAssertGreaterThanOrEqual(j.result?["took_seconds"]?.double ?? 0, 0.3)
        let lines = try store.events(id).filter { $0.source == "log" }.map(\.message)
        XCTAssertEqual(lines, ["sleeping 0.3 s in 3 step(s)"])
    }

    func testHonoursCancelWithinACheckAndCheckpoints() throws {
        try startWorker()
        let id = try submit(["seconds": 60, "steps": 600, "checkpoint_every": 5, "fail_attempts": 0])
        try eventually(5, "a checkpoint") { try job(id).checkpoint != nil }
        let t0 = Date()
        XCTAssertEqual(try store.cancel(id), .requested)
        try eventually(2, "cancelled") { try job(id).state == .cancelled }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 3)
        let cp = try XCTUnwrap(try job(id).checkpoint)
        let saved = try JSON.parse(String(decoding: ArtifactStore(handle.get()).data(cp.artifact), as: UTF8.self))
        XCTAssertEqual(saved["step"]?.int, cp.step)
    }

    func testFailAttemptsRetriesThenSucceeds() throws {
        try startWorker()
        let id = try submit(["seconds": 0, "steps": 1, "checkpoint_every": 0, "fail_attempts": 2])
        try eventually(8, "succeeded on attempt 3") { try job(id).state == .succeeded }
        XCTAssertEqual(try job(id).attempt, 3)
        XCTAssertEqual(try job(id).errors.array?.count, 2)
    }

    /// A checkpoint whose artifact does not hold the step the row names fails the job at once
    /// (no retries): resuming from it would be wrong.
    func testMismatchedCheckpointFailsPermanently() throws {
        let id = try submit(["seconds": 0, "steps": 10, "checkpoint_every": 1, "fail_attempts": 0])
        let s = try store
        let j = try XCTUnwrap(try s.claim(owner: "setup", queues: ["default"], kinds: ["sleep"], lease: 30))
        let lease = Lease(job: id, attempt: j.attempt, owner: "setup")
        let sha = try ArtifactStore(handle.get()).put(name: "bad", kind: "checkpoint", data: Data(#"{"step":2}"#.utf8)).sha256
        XCTAssertTrue(try s.recordCheckpoint(lease, step: 7, artifact: sha))
        XCTAssertTrue(try s.finish(lease, .giveBack("setup")))
        try startWorker()
        try eventually(5, "failed") { try job(id).state == .failed }
        XCTAssertEqual(try job(id).attempt, 2)
        XCTAssertTrue(try job(id).error?.contains("does not hold step 7") == true)
    }
}
