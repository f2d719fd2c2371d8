import Formats
import Foundation
import XCTest
@testable import JobQueue

/// Reports a loss every iteration and a validation figure every 250.
struct CurveHandler: JobHandler {
    static let kind = "test-curve"
    static let summary = "test"
    static let flags = [SpecFlag("total", .int(1...100_000), default: 1000, help: "iterations")]
    func run(_ ctx: JobContext) throws -> JSON {
        let total = ctx.spec["total"]?.int ?? 1000
        for i in 1...total {
            ctx.progress(iteration: i, total: total, loss: 1 / Double(i))
            if i % 250 == 0 { ctx.record(iteration: i, figures: ["val_fid": .double(Double(1000 - i))]) }
        }
        return [:]
    }
}

/// Issue 17: a job's training curve in `job_history`, about 200 points a run plus the last,
/// validation figures merged into the loss rows.
final class HistoryTests: QueueTestCase {
    func testProgressAndValidationFiguresMakeTheCurve() throws {
        let id = try store.submit(NewJob(kind: "test-curve", spec: ["total": 1000])).id
        let w = try Worker(config: config("w"), handlers: testHandlers + [CurveHandler.self])
        w.start()
        defer { w.stop(); w.wait() }
        try eventually(10, "done") { try job(id).state == .succeeded }
        let h = try store.history(id)
        XCTAssertEqual(h.filter { $0.figures["loss"] != nil }.map(\.iteration), Array(stride(from: 1, through: 996, by: 5)) + [1000],
                       "the loss every 5th of 1000 iterations, and the last")
        XCTAssertEqual(h.first?.figures["loss"]?.double, 1)
        XCTAssertEqual(h.last?.figures["loss"]?.double, 0.001)
        let validated = h.filter { $0.figures["val_fid"] != nil }
        XCTAssertEqual(validated.map(\.iteration), [250, 500, 750, 1000])
        // 250 is not on the loss grid (1, 6, …): its row holds the validation figure alone;
        // 1000 is, and holds both.
        XCTAssertNil(validated.first?.figures["loss"])
        XCTAssertEqual(validated.last?.figures["loss"]?.double, 0.001)
        XCTAssertEqual(validated.last?.figures["val_fid"]?.double, 0)
        // A later attempt writing an iteration again replaces the row.
        let lease = Lease(job: id, attempt: 1, owner: "w")
        XCTAssertFalse(try store.recordHistory(lease, iteration: 1, figures: ["loss": 9]), "fenced: the job is no longer running")
    }
}
