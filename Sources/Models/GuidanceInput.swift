import Foundation
import NeuralNet
import Tensors

// Guidance-conditioned students (docs/algorithms.md §5, project choice after LCM): one student for a
// range of guidance weights, w given to the network as an input. Sinusoidal features of w go
// through a small MLP (`embed.guidance`, SiLU, E → E) whose output is added to the noise-level +
// text embedding before its SiLU. The MLP's last layer starts at zero, so a fresh student
// computes exactly the function of the teacher it was copied from, at every w.

/// The range of guidance weights [lower, upper] a student is distilled for, written `LOW:HIGH`.
public struct GuidanceRange: Codable, Equatable, Sendable, CustomStringConvertible {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) { self.lower = lower; self.upper = upper }

    /// `LOW:HIGH`, e.g. `0:4`.
    public static func parse(_ text: String) throws -> GuidanceRange {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
        guard parts.count == 2, let lower = parts[0], let upper = parts[1] else {
            throw ModelError("distillation: a guidance range must be LOW:HIGH (e.g. 0:4), got '\(text)'")
        }
        let range = GuidanceRange(lower: lower, upper: upper)
        try range.validate()
        return range
    }

    public func validate() throws {
        guard lower.isFinite, upper.isFinite, lower >= 0, upper > lower else {
            throw ModelError("distillation: a guidance range needs 0 ≤ LOW < HIGH, got \(self)")
        }
    }

    public func contains(_ w: Double) -> Bool { w >= lower && w <= upper }

    /// w = lower + (upper − lower) · u, u ~ U(0, 1): the §5 draw for each example.
    public func value(atUnit u: Float) -> Double { lower + (upper - lower) * Double(u) }

    /// `0.0:4.0` — also the `guidance_range` metadata of a student file.
    public var description: String { "\(lower):\(upper)" }
}

/// What a guidance-conditioned network adds to its `ModelConfig`: the range it was distilled
/// for (sampling refuses w outside it) and the number of sinusoidal features of w.
public struct GuidanceInputConfig: Codable, Equatable, Sendable {
    public var range: GuidanceRange
    public var features: Int

    public init(range: GuidanceRange, features: Int) { self.range = range; self.features = features }

    public func validate() throws {
        try range.validate()
        guard features >= 2, features % 2 == 0 else {
            throw ModelError("model config: guidance features must be even and ≥ 2, got \(features)")
        }
    }
}

/// Sinusoidal features of the guidance weight, as `noiseLevelFeatures` with u = 100 · w, so the
/// w ∈ [0, 10] of practical guidance spans the same u ∈ [0, 1000] as the noise level's features:
///   f[2k] = sin(u · ω_k),  f[2k+1] = cos(u · ω_k),  ω_k = 10000^(−k / (F/2)).
/// No gradient: w is an input.
public func guidanceFeatures(_ w: [Float], count f: Int) -> Tensor {
    precondition(f >= 2 && f % 2 == 0, "guidance features: count must be even, got \(f)")
    let out = Tensor(shape: [w.count, f])
    let half = f / 2
    let p = out.data
    for (i, wi) in w.enumerated() {
        let u = 100 * Double(wi)
        for k in 0..<half {
            let omega = pow(10000, -Double(k) / Double(half))
            p[i * f + 2 * k] = Float(sin(u * omega))
            p[i * f + 2 * k + 1] = Float(cos(u * omega))
        }
    }
    return out
}
