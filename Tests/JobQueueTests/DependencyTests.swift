import Foundation
import XCTest
@testable import JobQueue

/// Issue 19: jobs that wait for other jobs, inputs naming a job's future output, and the
/// workers table behind `mscm-ctl workers`.
final class DependencyTests: QueueTestCase {
    let handlers: [any JobHandler.Type] = testHandlers + [ReadArtifactHandler.self, StoreNamedHandler.self]

    func run(_ c: WorkerConfig) throws -> Worker {
        let w = try Worker(config: c, handlers: handlers)
        w.start()
        addTeardownBlock { w.stop(); w.wait() }
        return w
    }

    func testAJobWaitsForItsDependenciesAndIsCancelledWhenOneFails() throws {
        let a = try store.submit(NewJob(kind: "test-record", spec: ["ms": 400])).id
        var b = NewJob(kind: "test-record")
        b.dependsOn = [a]
        let bid = try store.submit(b).id
        let f = try store.submit(NewJob(kind: "test-flaky", spec: ["fail": 100], maxAttempts: 1)).id
        var c = NewJob(kind: "test-record")
        c.dependsOn = [a, f]
        let cid = try store.submit(c).id
        try run(config("w"))
        try eventually(10, "b ran") { try job(bid).state == .succeeded }
        try eventually(10, "c cancelled") { try job(cid).state == .cancelled }
        let runs = Recorder.shared.all.map(\.job)
        XCTAssertLessThan(try XCTUnwrap(runs.firstIndex(of: a)), try XCTUnwrap(runs.firstIndex(of: bid)), "b ran after a")
        XCTAssertFalse(runs.contains(cid), "c never ran")
        XCTAssertEqual(try job(cid).error, "dependency job \(f) failed, so this job cannot run")
        XCTAssertEqual(try job(bid).dependsOn, [a])
    }

    /// `job:N` names the output of job N before it exists: the job waits for N and reads
    /// what N stored.
    func testAnInputMayNameTheOutputOfAJobNotYetFinished() throws {
        let producer = try store.submit(NewJob(kind: "test-store", spec: ["output": "made-by-producer"], delay: 0.5)).id
        var consumer = NewJob(kind: "test-read", spec: ["model": .string("job:\(producer)")])
        try ReadArtifactHandler.prepare(&consumer, artifacts: ArtifactStore(db))
        XCTAssertEqual(consumer.dependsOn, [producer])
        XCTAssertEqual(consumer.inputs, [PinnedInput(key: "model", ref: "job:\(producer)", sha256: nil)])
        let cid = try store.submit(consumer).id
        try run(config("w"))
        try eventually(10, "consumer done") { try job(cid).state == .succeeded }
        XCTAssertEqual(try job(cid).result?["read"], "1", "it read the producer's output")
        // Once the producer has succeeded, `job:N` pins like any reference; a job that failed
        // or does not exist is refused at submit, in one line.
        var later = NewJob(kind: "test-read", spec: ["model": .string("job:\(producer)")])
        try ReadArtifactHandler.prepare(&later, artifacts: ArtifactStore(db))
        XCTAssertEqual(later.dependsOn, [])
        XCTAssertNotNil(later.inputs.first?.sha256)
        XCTAssertThrowsError(try ReadArtifactHandler.validate(spec: ["model": "job:999"], artifacts: ArtifactStore(db))) {
            XCTAssertEqual("\($0)", "test-read spec: 'job:999': there is no job 999")
        }
    }

    func testWorkersRegisterAndAreListed() throws {
        XCTAssertFalse(try WorkerStore(db).isServed(queue: "default", kind: "test-record"))
        var c = config("lister", lease: 2)
        c.concurrency = 2
        let w = try run(c)
        try eventually(5, "registered") { try WorkerStore(db).list().contains { $0.id == "lister" } }
        let id = try store.submit(NewJob(kind: "test-loop")).id
        try eventually(5, "holds the job") { try WorkerStore(db).list().first { $0.id == "lister" }?.jobs == [id] }
        let info = try XCTUnwrap(try WorkerStore(db).list().first)
        XCTAssertEqual(info.queues, ["default"])
        XCTAssertEqual(info.kinds, handlers.map { $0.kind }.sorted())
        XCTAssertEqual(info.concurrency, 2)
        XCTAssertEqual(info.version, MSCMVersion.current)
        XCTAssertTrue(try WorkerStore(db).isServed(queue: "default", kind: "test-record"))
        XCTAssertFalse(try WorkerStore(db).isServed(queue: "gpu", kind: "test-record"))
        w.stop(); w.wait()
        XCTAssertEqual(try WorkerStore(db).list().count, 0, "a stopped worker is not live")
        XCTAssertEqual(try WorkerStore(db).list(all: true).first?.stoppedAt != nil, true)
    }
}
