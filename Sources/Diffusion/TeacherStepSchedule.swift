import Foundation

/// N_teacher(i): how many teacher steps span [0, 1] at training iteration i (docs/algorithms.md §5).
public enum TeacherStepSchedule: Equatable, Codable, Sendable {
    /// N_teacher(i) = n (256 in the mission's text-to-image setting).
    case fixed(Int)
    /// N_teacher(i) = exp(log start + clip(i / iterations, 0, 1) · (log end − log start)),
    /// 64 → 1280 in the paper.
    case annealed(start: Int, end: Int, iterations: Int)

    /// The paper's annealed schedule, 64 → 1280 over `iterations`.
    public static func annealed(iterations: Int) -> TeacherStepSchedule {
        .annealed(start: 64, end: 1280, iterations: iterations)
    }

    /// N_teacher(i), a real number (§5 rounds N_teacher / S, not N_teacher).
    public func steps(atIteration i: Int) -> Double {
        switch self {
        case .fixed(let n):
            precondition(n >= 1, "TeacherStepSchedule: fixed steps must be ≥ 1, got \(n)")
            return Double(n)
        case .annealed(let start, let end, let iterations):
            precondition(start >= 1 && end >= 1 && iterations >= 1,
                         "TeacherStepSchedule: annealed needs start, end, iterations ≥ 1")
            let f = Swift.min(Swift.max(Double(i) / Double(iterations), 0), 1)
            return Foundation.exp(Foundation.log(Double(start)) + f * (Foundation.log(Double(end)) - Foundation.log(Double(start))))
        }
    }

    /// N_seg = round(N_teacher(i) / S), at least 1: teacher steps per student step.
    public func segmentSteps(atIteration i: Int, studentSteps s: Int) -> Int {
        precondition(s >= 1, "TeacherStepSchedule: student steps must be ≥ 1, got \(s)")
        return Swift.max(1, Int((steps(atIteration: i) / Double(s)).rounded()))
    }
}
