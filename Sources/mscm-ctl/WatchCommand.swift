import CommandLineKit
import Formats
import Foundation
import JobQueue
import Jobs

/// Follows a job until it finishes: a live progress bar on a terminal (one line rewritten in
/// place, cut to the terminal's width so it never wraps — a wrapped line is not erased by the
/// next rewrite and the lines stack up), one plain line per change otherwise. Exits non-zero if
/// the job fails or is cancelled.
let watchCommand = Command(
    name: "watch",
    summary: "Follow a job's progress live (iteration, loss, rate, ETA) until it finishes.",
    usage: "mscm-ctl watch JOB [--interval SECONDS]",
    flags: [.value("interval", "SECONDS", "refresh period (0.1…60) [default 0.5]")]
) { flags in
    let id = try jobID(flags, "watch")
    let interval = try flags.double("interval", default: 0.5, range: 0.1...60)!
    let store = JobStore(try database())
    let tty = isatty(STDOUT_FILENO) == 1
    let width = TerminalText.outputWidth()
    var last = ""
    while true {
        guard let j = try store.get(id) else { throw UsageError("mscm-ctl watch: no job \(id)") }
        var line = "job \(j.id) \(j.kind) \(j.state.rawValue)"
        if j.state == .running || j.progress != nil {
            if let p = j.progress, let it = p["iteration"]?.double, let total = p["total"]?.double, total > 0 {
                line += " " + progressBar(it / total)
            }
            line += "  " + progressText(j.progress)
        }
        if j.state == .queued && j.attempt > 0 { line += "  (attempt \(j.attempt) of \(j.maxAttempts) ended: \(j.error ?? "given back"))" }
        // One column short of the width: a line filling the last column wraps on some terminals.
        line = terminalLine(line, width: width.map { tty ? $0 - 1 : $0 })
        if line != last {
            if tty { FileHandle.standardOutput.write(("\r\u{1B}[2K" + line).data(using: .utf8)!) } else { print(line) }
            last = line
        }
        if j.state.isFinal {
            if tty { print() }
            switch j.state {
            case .succeeded:
                // A long result (an evaluation's metrics) is for `status --json`, not the terminal.
                let result = j.result?.serialized ?? ""
                print(terminalLine("job \(id) succeeded" + (result.isEmpty ? "" : result.count <= 400 ? ": \(result)" : " (result: mscm-ctl status \(id) --json)"), width: width))
            case .failed: throw UsageError("job \(id) failed: \(TerminalText.escaped(j.error ?? "unknown error"))")
            default: throw UsageError("job \(id) was cancelled")
            }
            return
        }
        Thread.sleep(forTimeInterval: interval)
    }
}
