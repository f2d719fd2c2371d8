import Foundation

/// Distances between one-dimensional sample sets, for the analytic-teacher experiments.
public enum Wasserstein {
    /// W1(a, b) = ∫ |F_a(x) − F_b(x)| dx between the empirical distributions of `a` and `b`
    /// (any sizes); with equal sizes it is the mean |a_(i) − b_(i)| of the sorted samples.
    public static func distance1D(_ a: [Float], _ b: [Float]) -> Double {
        precondition(!a.isEmpty && !b.isEmpty, "Wasserstein.distance1D: empty sample set")
        let x = a.map(Double.init).sorted(), y = b.map(Double.init).sorted()
        var i = 0, j = 0, total = 0.0
        var last = Swift.min(x[0], y[0])
        while i < x.count || j < y.count {
            let next = j >= y.count || (i < x.count && x[i] <= y[j]) ? x[i] : y[j]
            let fa = Double(i) / Double(x.count), fb = Double(j) / Double(y.count)
            total += abs(fa - fb) * (next - last)
            last = next
            if j >= y.count || (i < x.count && x[i] <= y[j]) { i += 1 } else { j += 1 }
        }
        return total
    }
}
