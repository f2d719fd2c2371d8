import CommandLineKit
import Formats
import Foundation
import JobQueue
import Jobs

let pruneCommand = Command(
    name: "prune",
    summary: "Delete finished jobs older than a duration (workers also do this, default after 7d).",
    usage: "mscm-ctl prune --older-than DURATION",
    flags: [.value("older-than", "DURATION", "e.g. 7d, 12h [required]")]
) { flags in
    guard let s = flags.string("older-than") else { throw UsageError("mscm-ctl prune: --older-than is required") }
    guard let secs = Durations.parse(s) else { throw UsageError("mscm-ctl prune: --older-than must be a duration like 7d, got '\(s)'") }
    let n = try JobStore(database()).prune(olderThan: secs)
    print("pruned \(n) job(s)")
}
