import Formats
import Foundation

// Command-line flags for mscm-ctl, mscm-worker and mscm-bench: `--name value`, `--name=value`
// and boolean `--name`. Unknown flags (with the nearest known one suggested), a flag given
// twice, missing values and bad numbers are one-line errors.

public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    /// Kept to one line whatever the message quotes (an argument may hold a newline).
    public init(_ description: String) { self.description = printableField(description, limit: 2000) }
}

public struct FlagSpec {
    public let name: String
    public let takesValue: Bool
    public let help: String
    /// Shown in help as `--name VALUE`.
    public let valueName: String
    /// A one-letter alias (`-f` for `--follow`), if any.
    public var short: Character? = nil

    public static func value(_ name: String, _ valueName: String = "VALUE", _ help: String) -> FlagSpec {
        FlagSpec(name: name, takesValue: true, help: help, valueName: valueName)
    }
    public static func bool(_ name: String, _ help: String) -> FlagSpec {
        FlagSpec(name: name, takesValue: false, help: help, valueName: "")
    }
    /// A boolean flag with a one-letter alias: `.bool("follow", short: "f", "…")`.
    public static func bool(_ name: String, short: Character, _ help: String) -> FlagSpec {
        FlagSpec(name: name, takesValue: false, help: help, valueName: "", short: short)
    }
}

public struct Flags {
    public private(set) var values: [String: String] = [:]
    public private(set) var positional: [String] = []
    let command: String

    public init(_ args: [String], spec: [FlagSpec], command: String) throws {
        self.command = command
        let byName = Dictionary(spec.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        while i < args.count {
            let arg = args[i]
            if arg == "--" { positional.append(contentsOf: args[(i + 1)...]); break }
            if arg.hasPrefix("--") && arg.count > 2 {
                var name = String(arg.dropFirst(2))
                var inline: String? = nil
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                guard let f = byName[name] else { throw Flags.unknown("--\(name)", spec: spec, command: command) }
                if f.takesValue {
                    if let inline { try set(name, inline) }
                    else {
                        guard i + 1 < args.count else { throw UsageError("\(command): --\(name) needs a value") }
                        try set(name, args[i + 1])
                        i += 1
                    }
                } else {
                    guard inline == nil else { throw UsageError("\(command): --\(name) takes no value") }
                    try set(name, "true")
                }
            } else if arg.count == 2, arg.hasPrefix("-"), let f = spec.first(where: { $0.short == arg.last }), !f.takesValue {
                try set(f.name, "true")
            } else if arg.hasPrefix("-") && arg.count > 1 && Double(arg) == nil {
                throw Flags.unknown(arg, spec: spec, command: command)
            } else {
                positional.append(arg)
            }
            i += 1
        }
    }

    /// A second `--steps 8` after `--steps 4` is a mistake to point out, not a value to pick.
    private mutating func set(_ name: String, _ value: String) throws {
        if let first = values[name] {
            throw UsageError(first == "true" && value == "true" ? "\(command): --\(name) given twice"
                             : "\(command): --\(name) given twice ('\(first)' and '\(value)'); give it once")
        }
        values[name] = value
    }

    static func unknown(_ flag: String, spec: [FlagSpec], command: String) -> UsageError {
        let bare = String(flag.drop(while: { $0 == "-" }))
        let hint = TerminalText.nearest(bare, among: spec.map(\.name)).map { "did you mean --\($0)? " } ?? ""
        return UsageError("\(command): unknown flag \(TerminalText.escaped(flag)) (\(hint)see \(command) --help)")
    }

    public func has(_ name: String) -> Bool { values[name] != nil }
    public func string(_ name: String) -> String? { values[name] }

    public func string(_ name: String, default d: String) -> String { values[name] ?? d }

    public func int(_ name: String, default d: Int? = nil, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let s = values[name] else { return d }
        guard let v = Int(s) else { throw UsageError("\(command): --\(name) must be an integer, got '\(printableField(s, limit: 100))'") }
        if let r = range, !r.contains(v) {
            throw UsageError("\(command): --\(name) must be in \(r.lowerBound)…\(r.upperBound), got \(v)")
        }
        return v
    }

    public func double(_ name: String, default d: Double? = nil, range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let s = values[name] else { return d }
        guard let v = Double(s), v.isFinite else { throw UsageError("\(command): --\(name) must be a number, got '\(printableField(s, limit: 100))'") }
        if let r = range, !r.contains(v) {
            throw UsageError("\(command): --\(name) must be in \(NumberText.plain(r.lowerBound))…\(NumberText.plain(r.upperBound)), got \(s)")
        }
        return v
    }

    public func bool(_ name: String) -> Bool { values[name] == "true" }

    public static func help(_ spec: [FlagSpec]) -> String {
        let lines = spec.map { f -> (String, String) in
            (f.takesValue ? "--\(f.name) \(f.valueName)" : (f.short.map { "-\($0), " } ?? "") + "--\(f.name)", f.help)
        }
        let w = (lines.map { $0.0.count }.max() ?? 0) + 2
        return lines.map { "  " + $0.0.padding(toLength: w, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
    }
}

/// One subcommand of an executable: its flags, its help and what it does.
public struct Command {
    public let name: String
    public let summary: String
    public let usage: String
    public let flags: [FlagSpec]
    public let run: (Flags) throws -> Void
    /// For commands whose flags depend on their arguments (`submit <kind>` takes the kind's
    /// flags): the flag list for these arguments, used for parsing and for `--help`.
    public let flagsFor: (([String]) throws -> [FlagSpec])?

    public init(name: String, summary: String, usage: String, flags: [FlagSpec], run: @escaping (Flags) throws -> Void) {
        self.name = name; self.summary = summary; self.usage = usage; self.flags = flags; self.run = run
        flagsFor = nil
    }

    public init(name: String, summary: String, usage: String, flagsFor: @escaping ([String]) throws -> [FlagSpec],
                run: @escaping (Flags) throws -> Void) {
        self.name = name; self.summary = summary; self.usage = usage; self.flags = []; self.run = run
        self.flagsFor = flagsFor
    }

    public var helpText: String { helpText(flags: flags) }

    /// For a command with subcommands, written in its usage as alternatives
    /// (`mscm-ctl schedule add NAME … | schedule list [--json] | schedule remove NAME`): each
    /// subcommand with its own usage line. Empty for a command without subcommands.
    public var subcommands: [(name: String, usage: String)] {
        // Alternatives are separated by " | " outside brackets, or stand on lines of their own.
        var alternatives: [String] = [], depth = 0, current = ""
        let chars = Array(usage)
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            if "([".contains(ch) { depth += 1 } else if ")]".contains(ch) { depth -= 1 }
            if ch == "\n" || (depth == 0 && ch == "|" && i > 0 && chars[i - 1] == " " && i + 1 < chars.count && chars[i + 1] == " ") {
                alternatives.append(current.trimmingCharacters(in: .whitespaces)); current = ""
            } else {
                current.append(ch)
            }
            i += 1
        }
        alternatives.append(current.trimmingCharacters(in: .whitespaces))
        alternatives = alternatives.filter { !$0.isEmpty }
        guard alternatives.count >= 2 else { return [] }
        var out: [(String, String)] = []
        for alt in alternatives {
            var words = alt.split(separator: " ").map(String.init)
            let program = words.first != name ? words.first : nil
            if program != nil { words.removeFirst() }
            guard words.count >= 2, words[0] == name,
                  words[1].range(of: "^[a-z][a-z-]*$", options: .regularExpression) != nil else { return [] }
            let prefix = program ?? usagePrefix
            out.append((words[1], ((prefix.isEmpty ? [] : [prefix]) + words).joined(separator: " ")))
        }
        return out
    }

    /// The program name the usage starts with ("mscm-ctl"), if any.
    private var usagePrefix: String {
        let first = usage.split(separator: " ").first.map(String.init) ?? ""
        return first == name ? "" : first
    }

    public func helpText(flags: [FlagSpec]) -> String {
        var s = "usage: \(usage)\n\n\(summary)\n"
        if !flags.isEmpty { s += "\nflags:\n" + Flags.help(flags) + "\n" }
        return s
    }
}

/// Dispatches `argv` to one of `commands`; prints help for `--help`; turns errors into one line
/// on stderr and a non-zero exit.
public func runCommandLine(program: String, about: String, commands: [Command], arguments: [String]) -> Int32 {
    func overview() -> String {
        let w = (commands.map { $0.name.count }.max() ?? 0) + 2
        return "usage: \(program) <command> [flags]\n\n\(about)\n\ncommands:\n"
            + commands.map { "  " + $0.name.padding(toLength: w, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n")
            + "\n\nRun '\(program) <command> --help' for a command's flags.\n"
    }
    guard let first = arguments.first else { FileHandle.standardError.write(overview().data(using: .utf8)!); return 2 }
    if first == "--help" || first == "-h" || first == "help" { print(overview(), terminator: ""); return 0 }
    guard let cmd = commands.first(where: { $0.name == first }) else {
        let hint = TerminalText.nearest(first, among: commands.map(\.name)).map { "did you mean '\($0)'? " } ?? ""
        FileHandle.standardError.write("\(program): unknown command '\(TerminalText.escaped(first))' (\(hint)see \(program) --help)\n".data(using: .utf8)!)
        return 2
    }
    let rest = Array(arguments.dropFirst())
    let subcommands = cmd.subcommands
    let sub = subcommands.first { $0.name == rest.first }
    if !subcommands.isEmpty, let word = rest.first, !word.hasPrefix("-"), sub == nil {
        let names = subcommands.map(\.name)
        let hint = TerminalText.nearest(word, among: names).map { "did you mean '\($0)'? subcommands: " } ?? ""
        FileHandle.standardError.write("\(program) \(cmd.name): unknown subcommand '\(TerminalText.escaped(word))' (\(hint)\(names.joined(separator: ", ")))\n".data(using: .utf8)!)
        return 2
    }
    do {
        let spec = try cmd.flagsFor?(rest) ?? cmd.flags
        if rest.contains("--help") || rest.contains("-h") {
            // `schedule add --help`: that subcommand's usage and flags, not the whole family's.
            let usage = sub.map { "usage: \($0.usage)\n\n\(cmd.summary)\n" + (spec.isEmpty ? "" : "\nflags:\n" + Flags.help(spec) + "\n") }
            print(usage ?? cmd.helpText(flags: spec), terminator: "")
            return 0
        }
        let flags = try Flags(rest, spec: spec, command: "\(program) \(cmd.name)")
        try cmd.run(flags)
        return 0
    } catch let e as UsageError {
        FileHandle.standardError.write("\(e.description)\n".data(using: .utf8)!)
        return 2
    } catch {
        FileHandle.standardError.write("\(program) \(cmd.name): \(error)\n".data(using: .utf8)!)
        return 1
    }
}
