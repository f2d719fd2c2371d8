import Formats
import Foundation

/// One entry of a job kind's flag table: `--name VALUE` on `mscm-ctl submit <kind>` sets spec
/// key `key` (the flag name with '-' → '_'). The same table validates specs however they were
/// made, so the command line and the worker agree on what a valid spec is.
public struct SpecFlag {
    public enum Value {
        case int(ClosedRange<Int>)
        case double(ClosedRange<Double>)
        case string
        case choice([String])
        /// `--flag` alone sets true.
        case bool
        /// An artifact reference (name or sha256) that must exist; `kind` restricts its kind.
        case artifact(kind: String?)
        /// Comma-separated integers, e.g. `--steps 1,2,4,8`.
        case ints(ClosedRange<Int>)
        /// Comma-separated numbers.
        case doubles(ClosedRange<Double>)
        /// Comma-separated strings.
        case strings
        /// The name of an artifact the job will store: a valid artifact name, not yet taken
        /// (checked at submit, so a job never trains for hours to fail on its output's name).
        /// `prefix`: the job stores several artifacts under `<value>-<job id>/…`, so the value
        /// only has to leave room for that.
        case outputName(prefix: Bool)
    }

    public let name: String
    public let key: String
    public let value: Value
    /// Used when the flag is absent (and recorded in the spec, so a job's spec says everything).
    public let defaultValue: JSON?
    public let required: Bool
    public let help: String

    public init(_ name: String, _ value: Value, default defaultValue: JSON? = nil, required: Bool = false,
                key: String? = nil, help: String) {
        self.name = name
        self.key = key ?? name.replacingOccurrences(of: "-", with: "_")
        self.value = value
        self.defaultValue = defaultValue
        self.required = required
        self.help = help
    }

    public var rangeText: String {
        switch value {
        case .int(let r), .ints(let r): return "\(r.lowerBound)…\(r.upperBound)"
        case .double(let r), .doubles(let r): return "\(NumberText.plain(r.lowerBound))…\(NumberText.plain(r.upperBound))"
        case .choice(let c): return c.joined(separator: "|")
        default: return ""
        }
    }

    /// Why `name` cannot name an output artifact, or nil. A prefix leaves room for
    /// `-<job id>/<file>` within the 200 characters.
    public static func nameProblem(_ name: String, prefix: Bool) -> String? {
        let limit = prefix ? 120 : ArtifactStore.maxNameLength
        guard ArtifactStore.validName(name), name.unicodeScalars.count <= limit else {
            return "must be 1–\(limit) characters without control characters (got \(name.unicodeScalars.count) characters\(name.unicodeScalars.contains { $0.properties.generalCategory == .control } ? ", some of them control characters" : ""))"
        }
        if name.count >= 8, name.count <= 64, name.allSatisfy(\.isHexDigit) {
            return "must not look like a sha256 prefix (references of 8–64 hex digits are read as one), got '\(name)'"
        }
        return nil
    }

    // MARK: pinning

    /// The spec with every artifact reference in `table` replaced by the full sha256 it
    /// resolves to now, and the list of what was pinned. Run at submit, after `validate`.
    public static func pin(_ spec: JSON, table: [SpecFlag], artifacts: ArtifactCatalog) throws -> (spec: JSON, inputs: [PinnedInput]) {
        guard var o = spec.object else { return (spec, []) }
        var inputs: [PinnedInput] = []
        for f in table {
            guard case .artifact = f.value, let ref = o[f.key]?.string else { continue }
            let (pinned, input) = try pinReference(ref, key: f.key, artifacts: artifacts)
            o[f.key] = .string(pinned)
            inputs.append(input)
        }
        return (.object(o), inputs)
    }

    /// One reference pinned: the sha256 it names now, or — for `job:N` of a job that has not
    /// succeeded — the reference itself (the job waits for N, whose output is fixed once it
    /// succeeds; `PinnedInput.sha256` is then nil).
    public static func pinReference(_ ref: String, key: String, artifacts: ArtifactCatalog) throws -> (String, PinnedInput) {
        switch try artifacts.lookup(ref) {
        case .found(let info): return (info.sha256, PinnedInput(key: key, ref: ref, sha256: info.sha256))
        case .pending: return (ref, PinnedInput(key: key, ref: ref, sha256: nil))
        case .missing(let why): throw JobFailure.permanent(why)
        }
    }

    // MARK: spec validation

    /// Checks a spec against a flag table; errors read `<kind> spec: …` and name the key.
    public static func validate(_ spec: JSON, against table: [SpecFlag], kind: String, artifacts: ArtifactCatalog?) throws {
        func fail(_ s: String) -> JobFailure { .permanent("\(kind) spec: \(s)") }
        guard let o = spec.object else { throw fail("must be a JSON object, got \(spec.typeName)") }
        let known = Set(table.map(\.key))
        if let extra = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail("unknown key '\(extra)' (known: \(table.map(\.key).sorted().joined(separator: ", ")))")
        }
        for f in table {
            guard let v = o[f.key], !v.isNull else {
                if f.required { throw fail("'\(f.key)' is required") }
                continue
            }
            func wrong(_ expected: String) -> JobFailure { fail("'\(f.key)' must be \(expected), got \(v.serialized)") }
            switch f.value {
            case .int(let r):
                guard let i = v.int else { throw wrong("an integer") }
                guard r.contains(i) else { throw wrong("in \(f.rangeText)") }
            case .double(let r):
                guard let d = v.double else { throw wrong("a number") }
                guard r.contains(d) else { throw wrong("in \(f.rangeText)") }
            case .bool:
                guard v.bool != nil else { throw wrong("true or false") }
            case .string:
                guard let s = v.string, !s.isEmpty else { throw wrong("a non-empty string") }
            case .choice(let c):
                guard let s = v.string, c.contains(s) else { throw wrong("one of \(c.joined(separator: ", "))") }
            case .ints(let r):
                guard let a = v.array, !a.isEmpty, a.allSatisfy({ $0.int.map(r.contains) == true }) else {
                    throw wrong("a non-empty list of integers in \(f.rangeText)")
                }
            case .doubles(let r):
                guard let a = v.array, !a.isEmpty, a.allSatisfy({ $0.double.map(r.contains) == true }) else {
                    throw wrong("a non-empty list of numbers in \(f.rangeText)")
                }
            case .strings:
                guard let a = v.array, !a.isEmpty, a.allSatisfy({ $0.string?.isEmpty == false }) else {
                    throw wrong("a non-empty list of strings")
                }
            case .outputName(let prefix):
                guard let name = v.string else { throw wrong("a string") }
                if let why = SpecFlag.nameProblem(name, prefix: prefix) { throw fail("'\(f.key)' \(why)") }
                if !prefix, let artifacts, artifacts.checksOutputNames, let taken = try artifacts.info(name), taken.name == name {
                    throw fail("'\(f.key)': artifact name \(name.debugDescription) is taken (kind \(taken.kind), sha256 \(taken.sha256.prefix(12))); choose another name")
                }
            case .artifact(let wanted):
                guard let ref = v.string, !ref.isEmpty else { throw wrong("an artifact name or sha256") }
                if let artifacts {
                    switch try artifacts.lookup(ref) {
                    case .found(let info):
                        if let wanted, info.kind != wanted {
                            throw fail("'\(f.key)': artifact '\(ref)' has kind \(info.kind), not \(wanted)")
                        }
                    case .pending: break  // its kind is checked when the job runs, after job N succeeded
                    case .missing(let why):
                        throw fail(why.hasPrefix("no artifact") ? "'\(f.key)': \(why)" : why)
                    }
                }
            }
        }
    }
}
