import CommandLineKit
import Formats
import Foundation
import JobQueue
import Jobs

// Shared by the queue commands: argument parsing and how jobs look on a terminal.

/// The job id in `positional[0]`, or a one-line usage error.
func jobID(_ flags: Flags, _ command: String) throws -> Int64 {
    guard let s = flags.positional.first else { throw UsageError("mscm-ctl \(command): which job? (give its id)") }
    guard let id = Int64(s), id > 0 else { throw UsageError("mscm-ctl \(command): job id must be a positive integer, got '\(s)'") }
    guard flags.positional.count == 1 else { throw UsageError("mscm-ctl \(command): unexpected argument '\(flags.positional[1])'") }
    return id
}

/// The value of `--name` in raw arguments (for commands whose flags depend on it).
func rawValue(_ name: String, in args: [String]) -> String? {
    for (i, a) in args.enumerated() {
        if a == "--\(name)", i + 1 < args.count { return args[i + 1] }
        if a.hasPrefix("--\(name)=") { return String(a.dropFirst(name.count + 3)) }
    }
    return nil
}

func handler(_ kind: String, _ command: String) throws -> any JobHandler.Type {
    guard let h = JobRegistry.handler(for: kind) else {
        throw UsageError("mscm-ctl \(command): unknown job kind '\(kind)' (known: \(JobRegistry.kinds.joined(separator: ", ")))")
    }
    return h
}

/// Flags every job-making command shares (submit, schedule add).
let jobPlacementFlags: [FlagSpec] = [
    .value("queue", "NAME", "queue to put the job in [default: default]"),
    .value("priority", "P", "0 runs first … 9 last [default 5]"),
    .value("max-attempts", "N", "attempts before the job fails (1…100) [default 3]"),
]

/// Applies --queue, --priority, --max-attempts to a NewJob.
func place(_ job: inout NewJob, _ flags: Flags, _ command: String) throws {
    if let q = flags.string("queue") {
        guard q.range(of: "^[a-z0-9][a-z0-9_-]{0,62}$", options: .regularExpression) != nil else {
            throw UsageError("mscm-ctl \(command): --queue must be lowercase letters, digits, '_' or '-', got '\(q)'")
        }
        job.queue = q
    }
    job.priority = try flags.int("priority", default: 5, range: 0...9)!
    job.maxAttempts = try flags.int("max-attempts", default: 3, range: 1...100)!
}

func printJSON(_ v: JSON) { print(v.pretty) }

/// "3s", "4m12s", "2h05m": short ages and durations for tables.
func short(_ seconds: Double) -> String {
    let s = Int(max(0, seconds).rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    if s < 86_400 { return "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m" }
    return "\(s / 86_400)d\(String(format: "%02d", s / 3600 % 24))h"
}

/// "42% 420/1000 loss 0.1234 12.3 it/s ETA 47s" from a job's progress JSON.
func progressText(_ p: JSON?) -> String {
    guard let p, let it = p["iteration"]?.int else { return "" }
    var parts: [String] = []
    if let total = p["total"]?.int, total > 0 {
        parts.append(String(format: "%3.0f%%", 100 * Double(it) / Double(total)))
        parts.append("it \(it)/\(total)")
    } else {
        parts.append("it \(it)")
    }
    if let loss = p["loss"]?.double { parts.append(String(format: "loss %.4g", loss)) }
    // A handler may report its rate in another unit (extra.unit, e.g. "images/s") and add
    // figures of its own (e.g. the distiller's current teacher steps): shown as "key value".
    let extra = p["extra"]?.object ?? [:]
    let unit = extra["unit"]?.string ?? "it/s"
    if let rate = p["rate"]?.double { parts.append(rate >= 10 ? String(format: "%.0f \(unit)", rate) : String(format: "%.3g \(unit)", rate)) }
    if let eta = p["eta"]?.double { parts.append("ETA \(short(eta))") }
    for key in extra.keys.sorted() where key != "unit" {
        let v = extra[key]!
        let text = v.int.map(String.init) ?? v.double.map { String(format: "%.4g", $0) } ?? v.string ?? ""
        if !text.isEmpty { parts.append("\(key.replacingOccurrences(of: "_", with: " ")) \(text)") }
    }
    return parts.joined(separator: "  ")
}

/// `[██████░░░░░░]`, `width` cells.
func progressBar(_ fraction: Double, width: Int = 24) -> String {
    let f = min(1, max(0, fraction.isFinite ? fraction : 0))
    let full = Int((f * Double(width)).rounded(.down))
    return "[" + String(repeating: "█", count: full) + String(repeating: "░", count: width - full) + "]"
}

/// Pads columns to their widest cell. Every cell is escaped (`TerminalText.escaped`: names
/// and errors may hold control characters); with a `width` (a terminal's, or $COLUMNS) each
/// line is cut to it, so nothing wraps. Without one (a pipe) lines stay whole.
func table(_ rows: [[String]], width: Int? = TerminalText.outputWidth()) -> String {
    guard let header = rows.first else { return "" }
    let cells = rows.map { $0.map(TerminalText.escaped) }
    let widths = (0..<header.count).map { c in cells.map { TerminalText.width($0[c]) }.max() ?? 0 }
    return cells.map { r in
        let line = r.enumerated().map { i, cell in
            i == r.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - TerminalText.width(cell))
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        return width.map { TerminalText.fit(line, $0) } ?? line
    }.joined(separator: "\n")
}

/// A line of free text for the terminal: escaped, and cut to the width when there is one.
func terminalLine(_ s: String, width: Int? = TerminalText.outputWidth()) -> String {
    let e = TerminalText.escaped(s)
    return width.map { TerminalText.fit(e, $0) } ?? e
}

func now() -> Double { Date().timeIntervalSince1970 }

func database() throws -> PGConnection { try PGConnection() }
