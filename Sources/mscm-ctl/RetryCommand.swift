import CommandLineKit
import Foundation
import JobQueue
import Jobs

let retryCommand = Command(
    name: "retry",
    summary: "Run a failed or cancelled job again (or a queued one now, skipping its backoff).",
    usage: "mscm-ctl retry JOB",
    flags: []
) { flags in
    let id = try jobID(flags, "retry")
    switch try JobStore(database()).retry(id) {
    case .queued: print("job \(id) queued to run now")
    case .refused(let s): throw UsageError("mscm-ctl retry: job \(id) is \(s.rawValue); only failed, cancelled or queued jobs can be retried")
    case .notFound: throw UsageError("mscm-ctl retry: no job \(id)")
    }
}
