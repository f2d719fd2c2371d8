import Foundation
import Jobs
import Evaluation

let fidCommand = Command(
    name: "fid",
    summary: "Fréchet distance between two feature-statistics files (.npz with mu, sigma).",
    usage: "mscm-ctl fid A.npz B.npz [--json]",
    flags: [.bool("json", "print the result as JSON")]
) { flags in
    guard flags.positional.count == 2 else {
        throw UsageError("mscm-ctl fid: needs exactly two statistics files (A.npz B.npz), got \(flags.positional.count)")
    }
    let result = try FIDFileComparison.compare(URL(fileURLWithPath: flags.positional[0]),
                                               URL(fileURLWithPath: flags.positional[1]))
    print(flags.bool("json") ? result.json : result.text, terminator: "")
}
