import CommandLineKit
import Formats
import JobQueue

// A job kind's flag table on the command line (`mscm-ctl submit <kind>`): flags parsed by
// their types and ranges into a spec. The table itself, and spec validation, are the queue's.
extension SpecFlag {
    /// The command-line flag, with range and default in its help.
    public var flagSpec: FlagSpec {
        var h = help
        if !rangeText.isEmpty { h += " (\(rangeText))" }
        if let d = defaultValue { h += " [default \(d.string ?? d.serialized)]" }
        if required { h += " [required]" }
        switch value {
        case .bool: return .bool(name, h)
        case .int, .ints: return .value(name, "N", h)
        case .double, .doubles: return .value(name, "X", h)
        case .artifact: return .value(name, "ARTIFACT", h)
        default: return .value(name, "VALUE", h)
        }
    }

    /// Builds a spec from parsed flags: each flag parsed by its type and checked against its
    /// range (one-line errors naming the flag), defaults filled in, required flags demanded.
    public static func spec(from flags: Flags, table: [SpecFlag], command: String) throws -> JSON {
        var o: [String: JSON] = [:]
        for f in table {
            guard let raw = flags.string(f.name) else {
                if let d = f.defaultValue { o[f.key] = d }
                else if f.required { throw UsageError("\(command): --\(f.name) is required") }
                continue
            }
            o[f.key] = try f.parse(raw, flags: flags, command: command)
        }
        return .object(o)
    }

    func parse(_ raw: String, flags: Flags, command: String) throws -> JSON {
        func bad(_ what: String) -> UsageError { UsageError("\(command): --\(name) \(what), got '\(raw)'") }
        func list<T>(_ item: (String) -> T?) throws -> [T] {
            let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            return try parts.map { p in
                guard !p.isEmpty, let v = item(p) else { throw bad("must be a comma-separated list") }
                return v
            }
        }
        switch value {
        case .int(let r): return .int(try flags.int(name, range: r)!)
        case .double(let r): return .double(try flags.double(name, range: r)!)
        case .bool: return .bool(true)
        case .string, .artifact:
            guard !raw.isEmpty else { throw bad("must not be empty") }
            return .string(raw)
        case .outputName(let prefix):
            if let why = SpecFlag.nameProblem(raw, prefix: prefix) { throw UsageError("\(command): --\(name) \(why)") }
            return .string(raw)
        case .choice(let c):
            guard c.contains(raw) else { throw bad("must be one of \(c.joined(separator: ", "))") }
            return .string(raw)
        case .ints(let r):
            let v = try list { Int($0) }
            guard v.allSatisfy(r.contains) else { throw bad("values must be in \(rangeText)") }
            return .array(v.map { .int($0) })
        case .doubles(let r):
            let v = try list { Double($0).flatMap { $0.isFinite ? $0 : nil } }
            guard v.allSatisfy(r.contains) else { throw bad("values must be in \(rangeText)") }
            return .array(v.map { .double($0) })
        case .strings:
            return .array(try list { $0 }.map { .string($0) })
        }
    }
}
