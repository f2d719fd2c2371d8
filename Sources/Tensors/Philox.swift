import Foundation

// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
//
// A counter-based generator: every draw is a pure function of (key, counter). mscm keys it
// with the job's seed and uses the element index as the counter, so the noise of sample j
// under seed k never depends on batch size, position or machine (docs/algorithms.md §6).

public struct Philox4x32 {
    public typealias Block = (UInt32, UInt32, UInt32, UInt32)

    @inline(__always)
    static func mulhilo(_ a: UInt32, _ b: UInt32) -> (hi: UInt32, lo: UInt32) {
        let p = UInt64(a) &* UInt64(b)
        return (UInt32(truncatingIfNeeded: p >> 32), UInt32(truncatingIfNeeded: p))
    }

    /// Ten rounds of Philox-4x32 on `counter` under `key`.
    @inline(__always)
    public static func block(counter: Block, key: (UInt32, UInt32)) -> Block {
        var c = counter
        var k0 = key.0, k1 = key.1
        for round in 0..<10 {
            if round > 0 { k0 = k0 &+ 0x9E37_79B9; k1 = k1 &+ 0xBB67_AE85 }
            let (hi0, lo0) = mulhilo(0xD251_1F53, c.0)
            let (hi1, lo1) = mulhilo(0xCD9E_8D57, c.2)
            c = (hi1 ^ c.1 ^ k0, lo1, hi0 ^ c.3 ^ k1, lo0)
        }
        return c
    }
}

/// Seeded draws addressed by (stream, index). `stream` separates independent uses of one seed
/// (initial noise, time steps, dropout masks…) so they never share counters.
public struct CounterRNG {
    public let seed: UInt64
    public init(seed: UInt64) { self.seed = seed }

    @inline(__always) var key: (UInt32, UInt32) {
        (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
    }

    @inline(__always)
    public func block(stream: UInt64, index: UInt64) -> Philox4x32.Block {
        Philox4x32.block(counter: (UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                                   UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
                         key: key)
    }

    /// Uniform in (0, 1): 24 random bits, offset by half a step so 0 never appears (log-safe).
    @inline(__always)
    static func unit(_ x: UInt32) -> Float { (Float(x >> 8) + 0.5) * (1.0 / 16_777_216.0) }

    /// Uniform (0, 1) draw number `index` of `stream`.
    @inline(__always)
    public func uniform(stream: UInt64, index: UInt64) -> Float {
        CounterRNG.unit(block(stream: stream, index: index).0)
    }

    /// Standard normal draw number `index` of `stream` (Box–Muller on one Philox block).
    @inline(__always)
    public func normal(stream: UInt64, index: UInt64) -> Float {
        let b = block(stream: stream, index: index)
        // u1 takes 48 bits from two words, so log(u1) reaches far into the tail; it stays in
        // (0, 1): the half-step offset sits in the low word, never pushing the sum to 1.
        let u1 = CounterRNG.radiusUniform(b.0, b.1)
        let u2 = Double(CounterRNG.unit(b.2))
        return Float((-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2))
    }

    /// Box–Muller's u1 from two words: 48 bits in (0, 1), so log(u1) is finite and negative.
    @inline(__always)
    static func radiusUniform(_ w0: UInt32, _ w1: UInt32) -> Double {
        (Double(w0 >> 8) + (Double(w1 >> 8) + 0.5) / 16_777_216.0) / 16_777_216.0
    }

    /// Fills `out[i] = normal(stream, first + i)`.
    public func fillNormal(_ out: UnsafeMutableBufferPointer<Float>, stream: UInt64, first: UInt64 = 0) {
        for i in 0..<out.count { out[i] = normal(stream: stream, index: first + UInt64(i)) }
    }

    public func fillUniform(_ out: UnsafeMutableBufferPointer<Float>, stream: UInt64, first: UInt64 = 0) {
        for i in 0..<out.count { out[i] = uniform(stream: stream, index: first + UInt64(i)) }
    }

    /// Uniform integer in 0..<n (n > 0), from 64 bits of one block (bias < 2^-32 for mscm's n).
    public func integer(below n: Int, stream: UInt64, index: UInt64) -> Int {
        let b = block(stream: stream, index: index)
        let x = UInt64(b.0) | (UInt64(b.1) << 32)
        return Int(x % UInt64(n))
    }
}

@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
