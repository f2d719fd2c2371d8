/// Learning rate by step: linear warm-up to `peak` over `warmupSteps`, then constant or a
/// cosine/linear decay to `final` at `totalSteps`. `step` counts updates from 0, so the first
/// update uses peak / warmupSteps and update `warmupSteps − 1` uses the peak.
public struct LRSchedule: Equatable, Sendable {
    public enum Decay: Equatable, Sendable {
        case constant
        case cosine(totalSteps: Int, final: Float)
        case linear(totalSteps: Int, final: Float)
    }

    public var peak: Float
    public var warmupSteps: Int
    public var decay: Decay

    public init(peak: Float, warmupSteps: Int = 0, decay: Decay = .constant) {
        precondition(warmupSteps >= 0, "LRSchedule: negative warm-up")
        self.peak = peak; self.warmupSteps = warmupSteps; self.decay = decay
    }

    public func lr(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        switch decay {
        case .constant:
            return peak
        case let .cosine(total, final):
            let span = max(total - warmupSteps, 1)
            let progress = min(Float(step - warmupSteps) / Float(span), 1)
            return final + (peak - final) * 0.5 * (1 + _cosPi(progress))
        case let .linear(total, final):
            let span = max(total - warmupSteps, 1)
            let progress = min(Float(step - warmupSteps) / Float(span), 1)
            return peak + (final - peak) * progress
        }
    }
}

import Foundation
@inline(__always) func _cosPi(_ x: Float) -> Float { Float(Foundation.cos(Double.pi * Double(x))) }
