import Foundation
import Jobs

// mscm-worker: claims jobs from the queue and runs their handlers (the queue issue fills this in).
let about = "Run jobs from the mscm queue."
if CommandLine.arguments.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
    print("usage: mscm-worker [flags]\n\n\(about)")
    exit(0)
}
FileHandle.standardError.write("mscm-worker: the job queue is not built yet\n".data(using: .utf8)!)
exit(1)
