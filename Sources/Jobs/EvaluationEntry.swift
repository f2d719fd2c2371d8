import Formats
import Foundation
import Models

/// One configuration the evaluate job scores, written `MODEL[:SAMPLER[:STEPS[:GUIDANCE]]]`, e.g.
/// `teacher-12:addim:256:3`, or just `student-s4` for a student.
///
/// One guidance convention everywhere (evaluate, sample, distill): a student's w is the w it
/// was distilled at, and its S its own; both are in its file, so for a student they may be
/// omitted (or left empty, `student-s4:student::`), and a value that contradicts the file is
/// refused (`resolved(student:)`). A teacher's entry gives all three. MODEL is an artifact name
/// or sha256 (of kind teacher or student); it may itself contain ':' — the fields are found
/// from the right, by the sampler name.
public struct EvaluationEntry: Equatable {
    public static let modelKinds = ArtifactKind.models

    public let model: String
    /// nil: not given (a student's default is its own sampler).
    public let sampler: SamplerName?
    public let steps: Int?
    public let guidance: Double?
    /// The entry as written.
    public let written: String

    public init(model: String, sampler: SamplerName?, steps: Int?, guidance: Double?, written: String? = nil) {
        self.model = model; self.sampler = sampler; self.steps = steps; self.guidance = guidance
        self.written = written ?? ([model, sampler?.rawValue ?? "", steps.map(String.init) ?? "", guidance.map(NumberText.plain) ?? ""]
            .reversed().drop(while: \.isEmpty).reversed().joined(separator: ":"))
    }

    /// The entry in full, `MODEL:SAMPLER:STEPS:GUIDANCE` (once resolved).
    public var text: String {
        "\(model):\(sampler?.rawValue ?? ""):\(steps.map(String.init) ?? ""):\(guidance.map(NumberText.plain) ?? "")"
    }


    /// Parses one entry; the error lists everything wrong with it, one problem per element.
    public static func parse(_ text: String) -> Result<EvaluationEntry, EntryErrors> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let isSampler = { (s: String) in SamplerName(rawValue: s) != nil }
        // How many fields follow MODEL: 3, 2 or 1 when a sampler name sits there; with four or
        // more parts and no sampler anywhere, the full form is meant (and its sampler is wrong).
        let tail: Int
        if parts.count >= 4 && isSampler(parts[parts.count - 3]) { tail = 3 }
        else if parts.count >= 3 && isSampler(parts[parts.count - 2]) { tail = 2 }
        else if parts.count >= 2 && isSampler(parts[parts.count - 1]) { tail = 1 }
        else if parts.count >= 4 { tail = 3 }
        else { tail = 0 }
        let model = parts.dropLast(tail).joined(separator: ":")
        let fields = Array(parts.suffix(tail))
        var problems: [String] = []
        if model.isEmpty { problems.append("entry '\(text)': MODEL is empty") }
        var sampler: SamplerName? = nil, steps: Int? = nil, guidance: Double? = nil
        if tail >= 1 {
            sampler = SamplerName(rawValue: fields[0])
            if sampler == nil {
                problems.append("entry '\(text)': sampler '\(fields[0])' is not one of \(SamplerName.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if tail >= 2, !fields[1].isEmpty {
            steps = Int(fields[1])
            if steps.map({ $0 < 1 }) ?? true { problems.append("entry '\(text)': steps must be an integer ≥ 1, got '\(fields[1])'") }
        }
        if tail >= 3, !fields[2].isEmpty {
            guidance = Double(fields[2])
            if guidance.map({ !$0.isFinite || $0 < 0 }) ?? true {
                problems.append("entry '\(text)': guidance must be a number ≥ 0, got '\(fields[2])'")
            }
        }
        guard problems.isEmpty else { return .failure(EntryErrors(problems)) }
        return .success(EvaluationEntry(model: model, sampler: sampler, steps: steps, guidance: guidance, written: text))
    }

    /// The entry with every field filled: from the student's file (`student`: its S and w) for
    /// what was left out, checked against it for what was given; a teacher (`student` nil) must
    /// give all three. The error is one line naming the entry and the fix.
    /// A student's (S, w) to resolve `written` against: a fixed-w student's w is the one in its
    /// file; a guidance-conditioned student (distilled for a range of w) takes the entry's w as
    /// its input — 3, or the nearest w of its range, when the entry leaves it out — and refuses
    /// a w outside its range.
    public static func studentTerms(steps: Int, guidance: Double?, range: GuidanceRange?,
                                    written: EvaluationEntry) throws -> (steps: Int, guidance: Double) {
        if let range {
            let w = written.guidance ?? min(max(3, range.lower), range.upper)
            guard range.contains(w) else {
                throw EntryErrors(["entry '\(written.written)': the student was distilled for w in [\(NumberText.plain(range.lower)), \(NumberText.plain(range.upper))], not \(NumberText.plain(w))"])
            }
            return (steps, w)
        }
        guard let guidance else { throw EntryErrors(["entry '\(written.written)': the student file records no guidance"]) }
        return (steps, guidance)
    }

    public func resolved(student: (steps: Int, guidance: Double)?) throws -> EvaluationEntry {
        let name = "entry '\(written)'"
        guard let student else {
            guard let sampler, let steps, let guidance else {
                let missing = [sampler == nil ? "SAMPLER" : nil, steps == nil ? "STEPS" : nil, guidance == nil ? "GUIDANCE" : nil]
                    .compactMap { $0 }.joined(separator: ", ")
                throw EntryErrors(["\(name): a teacher's entry must be MODEL:SAMPLER:STEPS:GUIDANCE (\(missing) missing), e.g. \(model):addim:256:3"])
            }
            return EvaluationEntry(model: model, sampler: sampler, steps: steps, guidance: guidance, written: written)
        }
        let s = sampler ?? .student
        let w = NumberText.plain(student.guidance)
        if let guidance, guidance != student.guidance {
            throw EntryErrors(["\(name): \(model) was distilled at w = \(w), not \(NumberText.plain(guidance)) (a student's w is its own; leave GUIDANCE out)"])
        }
        if s == .student, let steps, steps != student.steps {
            throw EntryErrors(["\(name): \(model) is a \(student.steps)-step student; its sampler cannot take \(steps) steps (leave STEPS out)"])
        }
        guard let n = steps ?? (s == .student ? student.steps : nil) else {
            throw EntryErrors(["\(name): give STEPS for the \(s.rawValue) sampler (only the student sampler takes S from the file)"])
        }
        return EvaluationEntry(model: model, sampler: s, steps: n, guidance: student.guidance, written: written)
    }

    public struct EntryErrors: Error, CustomStringConvertible {
        public let lines: [String]
        init(_ lines: [String]) { self.lines = lines }
        public var description: String { lines.joined(separator: "\n") }
    }
}
