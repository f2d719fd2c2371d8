import Foundation

// Timing helpers shared by the benchmark areas.

func gflops(_ flop: Double, _ seconds: Double) -> Double { flop / seconds / 1e9 }

/// MSCM_BENCH_CLOCK=cpu times with the process's CPU time instead of the wall clock: on a
/// machine shared with other work it measures the work done, not the waiting (compare it
/// with Parallel.maxChunks = 1 and one BLAS thread, MSCM_BENCH_THREADS=1).
let useCPUClock = ProcessInfo.processInfo.environment["MSCM_BENCH_CLOCK"] == "cpu"

func now() -> Double {
    var ts = timespec()
    clock_gettime(useCPUClock ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Seconds of `body` (wall clock unless MSCM_BENCH_CLOCK=cpu).
func seconds(_ body: () -> Void) -> Double {
    let t0 = now()
    body()
    return now() - t0
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
