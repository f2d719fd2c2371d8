import Foundation
import XCTest
@testable import JobQueue

final class ScheduleTests: QueueTestCase {
    func schedule(_ name: String, _ rule: ScheduleRule, queue: String = "later") -> Schedule {
        Schedule(name: name, rule: rule, job: NewJob(kind: "test-record", spec: ["ms": 0], queue: queue))
    }

    /// Three workers' maintenance loops race over a schedule due every second: each due time
    /// becomes exactly one job, on the grid of multiples of 1 s.
    func testScheduleFiresExactlyOncePerDueTimeWithThreeWorkers() throws {
        try ScheduleStore(db).add(schedule("tick", .every(seconds: 1)))
        for i in 0..<3 {
            var c = config("w\(i)")
            c.maintenance = 0.05
            try startWorker(c)  // they serve 'default'; the schedule's jobs go to 'later' and stay countable
        }
        try eventually(8, "four due times fired") {
            try db.query("SELECT count(*) AS n FROM jobs WHERE schedule_name = 'tick'").first!.int("n")! >= 4
        }
        let due = try db.query("""
            SELECT extract(epoch FROM scheduled_for)::float8 AS t, unique_key FROM jobs WHERE schedule_name = 'tick' ORDER BY 1
            """).map { ($0.double("t")!, $0["unique_key"]!) }
        XCTAssertEqual(Set(due.map(\.0)).count, due.count, "one job per due time: \(due)")
        XCTAssertTrue(due.allSatisfy { $0.0 == $0.0.rounded() && $0.1 == "schedule:tick:\(Int($0.0))" })
        let s = try XCTUnwrap(try ScheduleStore(db).list().first)
        XCTAssertGreaterThan(s.nextRunAt, due.last!.0)
        XCTAssertEqual(s.lastRunAt, due.last!.0)
    }

    /// After downtime the missed due times collapse into one job for the latest of them.
    func testCatchUpAfterDowntimeMakesOneJobForTheLatestDueTime() throws {
        let schedules = ScheduleStore(db)
        try schedules.add(schedule("hourly", .every(seconds: 3600)))
        // As if the fleet had been down for five hours.
        try db.execute("UPDATE schedules SET next_run_at = date_trunc('hour', now()) - interval '5 hours'")
        let now = try dbNow()
        let fired = try schedules.fireDue()
        XCTAssertEqual(fired.count, 1)
        let latest = ScheduleRule.every(seconds: 3600).latestDue(notAfter: now)
        XCTAssertEqual(fired.first?.dueAt, latest)
        XCTAssertEqual(fired.first?.skipped, 5, "five earlier due times skipped")
        XCTAssertEqual(try schedules.fireDue(), [], "nothing more is due")
        XCTAssertEqual(try schedules.list().first?.nextRunAt, latest + 3600)
        let j = try job(try XCTUnwrap(fired.first?.job))
        XCTAssertEqual(j.scheduleName, "hourly")
        XCTAssertEqual(j.queue, "later")
        XCTAssertEqual(j.spec, ["ms": 0])
    }

    func testAddListRemove() throws {
        let schedules = ScheduleStore(db)
        let s = try schedules.add(schedule("nightly", .daily(atSecond: 3 * 3600)))
        let now = try dbNow()
        XCTAssertEqual(s.nextRunAt, ScheduleRule.daily(atSecond: 10_800).nextDue(after: now), accuracy: 1)
        XCTAssertEqual(s.rule, .daily(atSecond: 10_800))
        XCTAssertThrowsError(try schedules.add(schedule("nightly", .every(seconds: 60)))) {
            XCTAssertEqual("\($0)", "schedule 'nightly' already exists (remove it first)")
        }
        XCTAssertEqual(try schedules.list().map(\.name), ["nightly"])
        XCTAssertTrue(try schedules.remove("nightly"))
        XCTAssertFalse(try schedules.remove("nightly"))
    }
}
