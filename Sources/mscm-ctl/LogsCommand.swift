import CommandLineKit
import Formats
import Foundation
import JobQueue
import Jobs

let logsCommand = Command(
    name: "logs",
    summary: "Print a job's event log (its handler's lines and its state changes).",
    usage: "mscm-ctl logs JOB [-f]",
    flags: [.bool("follow", short: "f", "keep printing new lines until the job finishes")]
) { flags in
    let id = try jobID(flags, "logs")
    let store = JobStore(try database())
    guard try store.get(id) != nil else { throw UsageError("mscm-ctl logs: no job \(id)") }
    var after: Int64 = 0
    while true {
        let events = try store.events(id, after: after)
        for e in events {
            // Escaped like every name on the terminal; a message's own line breaks stay, indented.
            let message = e.message.split(separator: "\n", omittingEmptySubsequences: false)
                .map { TerminalText.escaped(String($0)) }.joined(separator: "\n    ")
            print("\(ISOTime.format(e.at))  #\(e.attempt)  \(e.source == "state" ? "[\(message)]" : message)")
            after = e.id
        }
        if events.count == 1000 { continue }
        guard flags.bool("follow") else { return }
        // Stop once the job is final and its last lines are out.
        if let j = try store.get(id), j.state.isFinal, try store.events(id, after: after).isEmpty { return }
        Thread.sleep(forTimeInterval: 0.5)
    }
}
