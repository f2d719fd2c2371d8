import Formats
import Foundation

/// When a schedule is due. Times are seconds since the Unix epoch, in UTC.
///
/// * `every(N)`: due at every multiple of N seconds since the epoch (every 10 min → :00, :10, …),
///   so due times do not drift with when the schedule was added or when workers ran.
/// * `daily(at: s)`: due once a day at s seconds after UTC midnight.
///
/// Catch-up rule after downtime: when a worker finds a schedule overdue, it creates exactly one
/// job, for the latest due time not after now (`latestDue`), and moves `next_run_at` to the
/// first due time after now (`nextDue`). Missed due times before the latest are skipped, not
/// replayed: a nightly report after three days down runs once, not three times.
public enum ScheduleRule: Equatable, Sendable {
    case every(seconds: Int)
    case daily(atSecond: Int)

    public static let day = 86_400

    /// The latest due time t ≤ now.
    public func latestDue(notAfter now: Double) -> Double {
        switch self {
        case .every(let n):
            return (now / Double(n)).rounded(.down) * Double(n)
        case .daily(let s):
            let midnight = (now / Double(ScheduleRule.day)).rounded(.down) * Double(ScheduleRule.day)
            let today = midnight + Double(s)
            return today <= now ? today : today - Double(ScheduleRule.day)
        }
    }

    /// The first due time t > now.
    public func nextDue(after now: Double) -> Double {
        switch self {
        case .every(let n): return latestDue(notAfter: now) + Double(n)
        case .daily: return latestDue(notAfter: now) + Double(ScheduleRule.day)
        }
    }

    /// How many due times the catch-up rule skips when the first unfired one was `firstPending`
    /// and a worker fires at `now` (0 when the worker is on time).
    public func skipped(firstPending: Double, now: Double) -> Int {
        let period: Double
        switch self {
        case .every(let n): period = Double(n)
        case .daily: period = Double(ScheduleRule.day)
        }
        return max(0, Int(((latestDue(notAfter: now) - firstPending) / period).rounded()))
    }

    /// Parses `--every 30s|10m|2h|1d` (a positive whole number of seconds, minutes, hours, days).
    public static func parseEvery(_ s: String) -> ScheduleRule? {
        guard let secs = Durations.parse(s), secs >= 1, secs == secs.rounded(), secs <= 366 * 86_400 else { return nil }
        return .every(seconds: Int(secs))
    }

    /// Parses `--daily-at HH:MM` or `HH:MM:SS` (UTC).
    public static func parseDaily(_ s: String) -> ScheduleRule? {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0 != nil }) else { return nil }
        let h = parts[0]!, m = parts[1]!, sec = parts.count == 3 ? parts[2]! : 0
        guard (0..<24).contains(h), (0..<60).contains(m), (0..<60).contains(sec) else { return nil }
        return .daily(atSecond: h * 3600 + m * 60 + sec)
    }

    public var description: String {
        switch self {
        case .every(let n): return "every " + Durations.format(Double(n))
        case .daily(let s): return String(format: "daily at %02d:%02d:%02d UTC", s / 3600, s / 60 % 60, s % 60)
        }
    }
}
