import Foundation

// Timing helpers shared by the benchmark areas.

func gflops(_ flop: Double, _ seconds: Double) -> Double { flop / seconds / 1e9 }

/// Wall-clock seconds of `body`.
func seconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// Best-of-`trials` seconds per call of `body`, after one warm-up call; each trial repeats
/// `body` enough to last about `minTrial` seconds so short kernels are timed reliably.
func timePerCall(trials: Int = 5, minTrial: Double = 0.2, _ body: () -> Void) -> Double {
    let once = seconds(body)
    let reps = max(1, Int(minTrial / max(once, 1e-6)))
    var best = Double.infinity
    for _ in 0..<trials {
        let t = seconds { for _ in 0..<reps { body() } }
        best = min(best, t / Double(reps))
    }
    return best
}

/// Resident set size of this process in MiB (Linux /proc/self/statm).
func residentMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}
