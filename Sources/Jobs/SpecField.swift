import Formats
import Foundation
import JobQueue

/// One setting of a job kind, declared once: its spec key and submit flag (`SpecFlag`: range,
/// help), its default — the config's own, read from a default config, recorded in the spec or
/// only shown in the help ("{default}" in the help text stands for it) — and how it sets the
/// config. A job kind's fields are its spec: the submit flags are `fields.map(\.flag)`, and
/// `SpecField.config` decodes a spec into the config in one place.
struct SpecField<Config> {
    let flag: SpecFlag
    /// Sets the config from the spec's value (called only when the spec has the key); `spec`
    /// is the whole spec, for rules between fields.
    let apply: (inout Config, _ value: JSON, _ spec: JSON) throws -> Void

    init(_ flag: SpecFlag, apply: @escaping (inout Config, _ value: JSON, _ spec: JSON) throws -> Void = { _, _, _ in }) {
        self.flag = flag
        self.apply = apply
    }

    /// The flag of a field whose default is `value`: recorded in the spec when `record`, and
    /// written into the help where it says "{default}".
    static func flag(_ name: String, _ kind: SpecFlag.Value, default value: JSON?, record: Bool, required: Bool = false,
                     help: String) -> SpecFlag {
        let shown = value.map { $0.string ?? $0.serialized } ?? ""
        return SpecFlag(name, kind, default: record ? value : nil, required: required,
                        help: help.replacingOccurrences(of: "{default}", with: shown))
    }

    static func int(_ name: String, _ path: WritableKeyPath<Config, Int>, _ range: ClosedRange<Int>, defaults: Config,
                    record: Bool = true, required: Bool = false, help: String) -> SpecField {
        SpecField(flag(name, .int(range), default: required ? nil : .int(defaults[keyPath: path]), record: record,
                       required: required, help: help)) { c, v, _ in
            if let n = v.int { c[keyPath: path] = n }
        }
    }

    static func double(_ name: String, _ path: WritableKeyPath<Config, Double>, _ range: ClosedRange<Double>, defaults: Config,
                       record: Bool = true, help: String) -> SpecField {
        SpecField(flag(name, .double(range), default: number(defaults[keyPath: path]), record: record, help: help)) { c, v, _ in
            if let x = v.double { c[keyPath: path] = x }
        }
    }

    static func float(_ name: String, _ path: WritableKeyPath<Config, Float>, _ range: ClosedRange<Double>, defaults: Config,
                      record: Bool = true, help: String) -> SpecField {
        SpecField(flag(name, .double(range), default: number(defaults[keyPath: path]), record: record, help: help)) { c, v, _ in
            if let x = v.double { c[keyPath: path] = Float(x) }
        }
    }

    /// A setting whose default lies elsewhere (e.g. a preset's): nil unless the spec sets it.
    static func optional<T>(_ name: String, _ kind: SpecFlag.Value, _ path: WritableKeyPath<Config, T?>, default value: JSON? = nil,
                            help: String, read: @escaping (JSON) -> T?) -> SpecField {
        SpecField(SpecFlag(name, kind, default: value, help: help)) { c, v, _ in
            if let x = read(v) { c[keyPath: path] = x }
        }
    }

    /// A choice among an enum's raw values.
    static func choice<E: RawRepresentable>(_ name: String, _ path: WritableKeyPath<Config, E>, _ cases: [E], defaults: Config,
                                            record: Bool = true, help: String) -> SpecField where E.RawValue == String {
        SpecField(flag(name, .choice(cases.map(\.rawValue)), default: .string(defaults[keyPath: path].rawValue), record: record,
                       help: help)) { c, v, _ in
            if let s = v.string, let e = E(rawValue: s) { c[keyPath: path] = e }
        }
    }

    /// A default as the spec records it: an integral value as an integer (`3`, not `3.0`), a
    /// Float by its shortest decimal (2e-4, not 0.00019999999494757503).
    static func number(_ d: Double) -> JSON { d.rounded() == d && abs(d) < 1e15 ? .int(Int(d)) : .double(d) }
    static func number(_ f: Float) -> JSON { number(Double("\(f)") ?? Double(f)) }

    /// The config `spec` asks for: `start` with every field the spec holds applied, in the
    /// fields' order.
    static func config(_ spec: JSON, start: Config, fields: [SpecField]) throws -> Config {
        var c = start
        for f in fields { if let v = spec[f.flag.key] { try f.apply(&c, v, spec) } }
        return c
    }
}
