import Foundation
import Models

/// One configuration the evaluate job scores, written `MODEL:SAMPLER:STEPS:GUIDANCE`, e.g.
/// `teacher-12:addim:256:3` or `student-s4:student:4:0`. MODEL is an artifact name or sha256
/// (of kind teacher or student); it may itself contain ':', since the last three fields are
/// split off from the right. SAMPLER is a `SamplerName` raw value.
public struct EvaluationEntry: Equatable {
    public static let modelKinds = ["teacher", "student"]

    public let model: String
    public let sampler: SamplerName
    public let steps: Int
    public let guidance: Double

    /// The entry as written.
    public var text: String { "\(model):\(sampler.rawValue):\(steps):\(Self.number(guidance))" }

    static func number(_ v: Double) -> String { v.rounded() == v && abs(v) < 1e9 ? String(Int(v)) : String(v) }

    /// Parses one entry; the error lists everything wrong with it, one problem per element.
    public static func parse(_ text: String) -> Result<EvaluationEntry, EntryErrors> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 4 else {
            return .failure(EntryErrors(["entry '\(text)' must be MODEL:SAMPLER:STEPS:GUIDANCE"]))
        }
        let model = parts.dropLast(3).joined(separator: ":")
        let (samplerText, stepsText, guidanceText) = (parts[parts.count - 3], parts[parts.count - 2], parts[parts.count - 1])
        var problems: [String] = []
        if model.isEmpty { problems.append("entry '\(text)': MODEL is empty") }
        let sampler = SamplerName(rawValue: samplerText)
        if sampler == nil {
            problems.append("entry '\(text)': sampler '\(samplerText)' is not one of \(SamplerName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let steps = Int(stepsText)
        if steps.map({ $0 < 1 }) ?? true { problems.append("entry '\(text)': steps must be an integer ≥ 1, got '\(stepsText)'") }
        let guidance = Double(guidanceText)
        if guidance.map({ !$0.isFinite || $0 < 0 }) ?? true {
            problems.append("entry '\(text)': guidance must be a number ≥ 0, got '\(guidanceText)'")
        }
        guard problems.isEmpty, let sampler, let steps, let guidance else { return .failure(EntryErrors(problems)) }
        return .success(EvaluationEntry(model: model, sampler: sampler, steps: steps, guidance: guidance))
    }

    public struct EntryErrors: Error {
        public let lines: [String]
        init(_ lines: [String]) { self.lines = lines }
    }
}
