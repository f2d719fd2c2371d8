import Foundation

/// Standard-normal draws addressed by (seed, stream, index), for every noise tensor of the module.
///
/// Box–Muller on one Philox-4x32 block of `CounterRNG`, like `CounterRNG.normal`, but with the
/// uniforms formed in Double: u1 ∈ (0, 1) from 53 bits, u2 ∈ [0, 1) from 32. (`CounterRNG.normal`
/// rounds its first uniform in Float, which reaches 1 + ε when the top 24 bits are all ones — a
/// NaN once in 2^24 draws — so this module does not use it.)
public enum GaussianNoise {
    @inline(__always)
    public static func normal(_ rng: CounterRNG, stream: UInt64, index: UInt64) -> Float {
        let b = rng.block(stream: stream, index: index)
        let bits = (UInt64(b.0) << 21) | (UInt64(b.1) >> 11)                 // 53 random bits
        let u1 = (Double(bits) + 0.5) * (1.0 / 9_007_199_254_740_992.0)       // (0, 1)
        let u2 = Double(b.2) * (1.0 / 4_294_967_296.0)                        // [0, 1)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// out[i] = normal(stream, first + i).
    public static func fill(_ out: UnsafeMutableBufferPointer<Float>, _ rng: CounterRNG, stream: UInt64, first: UInt64 = 0) {
        for i in 0..<out.count { out[i] = normal(rng, stream: stream, index: first + UInt64(i)) }
    }
}
