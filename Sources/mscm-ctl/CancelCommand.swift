import CommandLineKit
import Foundation
import JobQueue
import Jobs

let cancelCommand = Command(
    name: "cancel",
    summary: "Cancel a job: a queued one at once, a running one at its handler's next check.",
    usage: "mscm-ctl cancel JOB",
    flags: []
) { flags in
    let id = try jobID(flags, "cancel")
    switch try JobStore(database()).cancel(id) {
    case .cancelled: print("job \(id) cancelled")
    case .requested: print("job \(id) is running: cancel requested; it stops at its next check (mscm-ctl watch \(id))")
    case .alreadyFinished(let s): throw UsageError("mscm-ctl cancel: job \(id) already \(s.rawValue)")
    case .notFound: throw UsageError("mscm-ctl cancel: no job \(id)")
    }
}
