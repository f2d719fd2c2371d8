import Formats
import Foundation
import XCTest
@testable import JobQueue

final class ScheduleRuleTests: XCTestCase {
    /// latestDue/nextDue against a brute-force walk over whole seconds.
    func testEveryAgainstBruteForce() {
        let rule = ScheduleRule.every(seconds: 7)
        for now in stride(from: 1_700_000_000.0, to: 1_700_000_030.0, by: 0.5) {
            var t = now.rounded(.down)
            while Int(t) % 7 != 0 { t -= 1 }
            XCTAssertEqual(rule.latestDue(notAfter: now), t, "now \(now)")
            var n = now.rounded(.down) + 1
            while Int(n) % 7 != 0 { n += 1 }
            XCTAssertEqual(rule.nextDue(after: now), n, "now \(now)")
        }
    }

    func testDailyAgainstCalendar() {
        let rule = ScheduleRule.daily(atSecond: 3 * 3600 + 30 * 60)  // 03:30 UTC
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let base = cal.date(from: DateComponents(year: 2026, month: 3, day: 14, hour: 0, minute: 0))!.timeIntervalSince1970
        for hour in stride(from: 0.0, to: 48, by: 0.25) {
            let now = base + hour * 3600
            let due = rule.latestDue(notAfter: now)
            let c = cal.dateComponents([.hour, .minute, .second], from: Date(timeIntervalSince1970: due))
            XCTAssertEqual([c.hour, c.minute, c.second], [3, 30, 0])
            XCTAssertLessThanOrEqual(due, now)
            XCTAssertGreaterThan(due + 86_400, now)
            XCTAssertEqual(rule.nextDue(after: now), due + 86_400)
        }
        XCTAssertEqual(rule.latestDue(notAfter: base + 3.5 * 3600), base + 3.5 * 3600, "due exactly now counts as due")
    }

    func testCatchUpCountsSkippedDueTimes() {
        let rule = ScheduleRule.every(seconds: 60)
        XCTAssertEqual(rule.skipped(firstPending: 600, now: 600.5), 0)
        XCTAssertEqual(rule.skipped(firstPending: 600, now: 845), 4, "600, 660, 720, 780 skipped; 840 runs")
        XCTAssertEqual(ScheduleRule.daily(atSecond: 0).skipped(firstPending: 0, now: 3 * 86_400 + 5), 3)
    }

    func testParsing() {
        XCTAssertEqual(ScheduleRule.parseEvery("10m"), .every(seconds: 600))
        XCTAssertEqual(ScheduleRule.parseEvery("2h"), .every(seconds: 7200))
        XCTAssertEqual(ScheduleRule.parseEvery("45"), .every(seconds: 45))
        XCTAssertNil(ScheduleRule.parseEvery("0m"))
        XCTAssertNil(ScheduleRule.parseEvery("1.5s"))
        XCTAssertNil(ScheduleRule.parseEvery("soon"))
        XCTAssertEqual(ScheduleRule.parseDaily("03:00"), .daily(atSecond: 10_800))
        XCTAssertEqual(ScheduleRule.parseDaily("23:59:59"), .daily(atSecond: 86_399))
        XCTAssertNil(ScheduleRule.parseDaily("24:00"))
        XCTAssertNil(ScheduleRule.parseDaily("3"))
        XCTAssertEqual(Durations.parse("1.5h"), 5400)
        XCTAssertEqual(Durations.format(5400), "1h30m")
    }
}
