import Foundation

/// How long a failed attempt waits before the job may run again.
///
///     d(a)     = min(cap, base · 2^(a−1))          a = the attempt that just failed (1, 2, …)
///     delay(a) = d(a) · (1 − jitter · u)           u ~ Uniform[0, 1)
///
/// so the delay lies in ((1 − jitter)·d(a), d(a)]. The jitter spreads retries of jobs that
/// failed together (a database blip fails many at once) so they do not return as one herd.
/// Defaults: base 10 s, cap 1 h, jitter 0.2 — attempt 1 waits 8–10 s, attempt 5 waits 128–160 s.
public struct RetryPolicy: Equatable, Sendable {
    public var base: Double
    public var cap: Double
    public var jitter: Double

    public init(base: Double = 10, cap: Double = 3600, jitter: Double = 0.2) {
        precondition(base > 0 && cap >= base && (0...1).contains(jitter), "invalid retry policy")
        self.base = base; self.cap = cap; self.jitter = jitter
    }

    /// d(a): the delay before jitter.
    public func ceiling(afterAttempt a: Int) -> Double {
        // 2^(a−1) overflows nothing here: past ~60 doublings the cap has long won.
        min(cap, base * pow(2, Double(min(max(a, 1), 64) - 1)))
    }

    /// delay(a) for a given draw u ∈ [0, 1).
    public func delay(afterAttempt a: Int, u: Double) -> Double {
        ceiling(afterAttempt: a) * (1 - jitter * u)
    }

    public func delay(afterAttempt a: Int) -> Double {
        delay(afterAttempt: a, u: Double.random(in: 0..<1))
    }
}
