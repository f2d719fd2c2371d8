import Foundation

/// Every random draw of the Diffusion module, addressed for `CounterRNG(seed:)`.
///
/// A draw is a pure function of (seed, stream, index) — never of batch size, batch position or
/// machine (docs/algorithms.md §6). The stream packs a *round* (a training iteration or a sampler
/// step) above an 8-bit *kind*: `stream = round << 8 | kind`. Indices are per example
/// (`example`) or per element (`example · d + element`, with `d` the scalars per example).
///
/// | kind | round | index | draw |
/// | --- | --- | --- | --- |
/// | `initialNoise` | 0 | sample · d + element | z_1 of sample j under seed k (§6) |
/// | `ancestralNoise` | sampler step k (t = k/N) | sample · d + element | DDPM noise (§6) |
/// | `xvarNoise` | teacher step k | data example · d + element | ε for the xvar table (§4) |
/// | `teacherTime` | iteration | example | t ~ U(0, 1) of the teacher loss (§2) |
/// | `teacherNoise` | iteration | example · d + element | ε of the teacher loss (§2) |
/// | `teacherUncond` | iteration | example | null-conditioning coin, p_uncond (§2) |
/// | `consistencyStep` | iteration | example | step ~ U{0, …, S−1} (§5) |
/// | `consistencyOffset` | iteration | example | n_rel ~ U{1, …, N_seg} (§5) |
/// | `consistencyNoise` | iteration | example · d + element | ε of z_t (§5) |
/// | `mixtureComponent` | 0 | example | Gaussian-mixture component draw |
/// | `mixtureNoise` | 0 | example · D + element | Gaussian-mixture within-component noise |
/// | `consistencyGuidance` | iteration | example | w ~ U[w_min, w_max] of a guidance-range student (§5) |
public enum NoiseStreams {
    public static let initialNoise: UInt64 = 1
    public static let ancestralNoise: UInt64 = 2
    public static let xvarNoise: UInt64 = 3
    public static let teacherTime: UInt64 = 4
    public static let teacherNoise: UInt64 = 5
    public static let teacherUncond: UInt64 = 6
    public static let consistencyStep: UInt64 = 7
    public static let consistencyOffset: UInt64 = 8
    public static let consistencyNoise: UInt64 = 9
    public static let mixtureComponent: UInt64 = 10
    public static let mixtureNoise: UInt64 = 11
    public static let consistencyGuidance: UInt64 = 12

    /// The stream of `kind` in `round` (an iteration or a step number).
    @inline(__always)
    public static func stream(_ kind: UInt64, round: Int = 0) -> UInt64 {
        precondition(round >= 0 && round < (1 << 55), "NoiseStreams: round \(round) out of range")
        return UInt64(round) << 8 | kind
    }
}
