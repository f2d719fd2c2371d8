import Formats
import Foundation
import JobQueue
import XCTest
@testable import Jobs

/// Issue 19 from the command line: `workers`, `status` saying nobody serves a queue,
/// `submit --after`, `list --queue`.
final class FleetCtlTests: ScratchTestCase {
    func testWorkersStatusAndDependenciesFromTheCommandLine() throws {
        let w = try spawnWorker(["--id", "fleet-a", "--queues", "default", "--concurrency", "2", "--poll", "0.1"])
        try eventually(10, "the worker registered") { try WorkerStore(handle.get()).list().count == 1 }
        let listed = try ctl("workers", "--json")
        XCTAssertEqual(listed.status, 0, listed.err)
        let row = try XCTUnwrap(try JSON.parse(listed.out).array?.first)
        XCTAssertEqual(row["id"], "fleet-a")
        XCTAssertEqual(row["concurrency"], 2)
        XCTAssertEqual(row["queues"], ["default"])
        XCTAssertTrue(try ctl("workers").out.contains("fleet-a"))

        // A job on a queue nobody serves says so.
        let lonely = try JSON.parse(try ctl("submit", "sleep", "--queue", "gpu", "--json").out)["id"]!.int!
        XCTAssertTrue(try ctl("status", String(lonely)).out.contains("no live worker takes sleep jobs from queue gpu"))
        XCTAssertEqual(try JSON.parse(try ctl("list", "--queue", "gpu", "--json").out).array?.count, 1)

        // --after: b waits for a; c, after a job that is cancelled, is cancelled with the reason.
        let a = try JSON.parse(try ctl("submit", "sleep", "--seconds", "1", "--steps", "2", "--json").out)["id"]!.int!
        let b = try ctl("submit", "sleep", "--after", String(a), "--json")
        XCTAssertEqual(b.status, 0, b.err)
        let bid = try JSON.parse(b.out)["id"]!.int!
        XCTAssertTrue(try ctl("status", String(bid)).out.contains("after job \(a)"))
        let c = try JSON.parse(try ctl("submit", "sleep", "--after", String(lonely), "--json").out)["id"]!.int!
        XCTAssertEqual(try ctl("cancel", String(lonely)).status, 0)
        try eventually(20, "b succeeded after a, c cancelled") {
            try job(Int64(bid)).state == .succeeded && job(Int64(c)).state == .cancelled
        }
        XCTAssertLessThanOrEqual(try XCTUnwrap(try job(Int64(a)).finishedAt), try XCTUnwrap(try job(Int64(bid)).startedAt))
        XCTAssertEqual(try job(Int64(c)).error, "dependency job \(lonely) cancelled, so this job cannot run")
        let refused = try ctl("submit", "sleep", "--after", String(lonely))
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.err.contains("did not succeed (cancelled)"), refused.err)
        XCTAssertEqual(try ctl("submit", "sleep", "--after", "x").err, "mscm-ctl submit sleep: --after must be job ids separated by commas, got 'x'\n")
        kill(w.processIdentifier, SIGTERM)
        XCTAssertTrue(waitForExit(w, timeout: 10), workerOutput)
        XCTAssertTrue(try ctl("workers").out.hasPrefix("no live workers"))
    }
}

/// The worker's own flags and its internal child entry point: a wrong value is one line and
/// exit 2, never a trap.
final class WorkerFlagTests: ScratchTestCase {
    func testBadWorkerFlagsAreOneLine() throws {
        for (args, fragment) in [(["--isolation", "fork"], "--isolation must be process or thread, got 'fork'"),
                                 (["--max-rescues", "0"], "--max-rescues must be in 1…100, got 0"),
                                 (["--run-job", "x"], "--run-job ID --attempt N --owner NAME --outcome FILE")] {
            let p = try spawnWorker(args)
            XCTAssertTrue(waitForExit(p, timeout: 10), workerOutput)
            XCTAssertEqual(p.terminationStatus, 2, "\(args): \(workerOutput)")
            XCTAssertTrue(workerOutput.contains(fragment), "\(args): \(workerOutput)")
        }
        XCTAssertFalse(workerOutput.contains("Fatal error"), workerOutput)
    }
}
