// Vectorised transcendental functions and reductions for the elementwise kernels.
//
// Foundation's expf/erff are scalar library calls (tens of cycles each); these work on eight
// lanes at once with plain SIMD arithmetic so they compile to SSE/AVX on any x86-64 target.
// No fused multiply-add is requested explicitly: without FMA hardware it would become a
// library call per lane.

typealias Vec8 = SIMD8<Float>

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> Vec8 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec8.self)
}
@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>) -> Vec8 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec8.self)
}
@inline(__always) func store8(_ v: Vec8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec8.self)
}

/// eˣ on eight lanes, relative error < 5e-7 (≈ 3 ulp) on [−87, 88]: x = n·ln2 + r with |r| ≤ ln2/2,
/// eʳ by a degree-6 polynomial (Cephes expf coefficients), 2ⁿ built in the exponent bits.
@inline(__always) func vexp(_ x: Vec8) -> Vec8 {
    let x = vclamp(x, -87.3, 88.3)
    // Round x·log2(e) to the nearest integer with the 1.5·2²³ trick (no SSE4.1 round needed).
    let magic = Vec8(repeating: 12_582_912)
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    let r = fma8(fma8(x, n, Vec8(repeating: -0.693_359_375)), n, Vec8(repeating: 2.121_944_4e-4))
    var p = Vec8(repeating: 1.987_569_15e-4)
    p = fma8(Vec8(repeating: 1.398_199_950_7e-3), p, r)
    p = fma8(Vec8(repeating: 8.333_451_907_3e-3), p, r)
    p = fma8(Vec8(repeating: 4.166_579_589_4e-2), p, r)
    p = fma8(Vec8(repeating: 1.666_666_545_9e-1), p, r)
    p = fma8(Vec8(repeating: 5.000_000_120_1e-1), p, r)
    p = fma8(r + 1, p, r * r)
    let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: Vec8.self)
}

// The generic SIMD helpers pointwiseMin/pointwiseMax/clamped compile to NaN-aware scalar
// loops; compare-and-replace compiles to packed compare and blend instructions.
@inline(__always) func vmaximum(_ a: Vec8, _ b: Vec8) -> Vec8 { a.replacing(with: b, where: a .< b) }
@inline(__always) func vclamp(_ x: Vec8, _ lo: Float, _ hi: Float) -> Vec8 {
    let l = Vec8(repeating: lo), h = Vec8(repeating: hi)
    return x.replacing(with: l, where: x .< l).replacing(with: h, where: h .< x)
}

/// σ(x) = 1 / (1 + e⁻ˣ).
@inline(__always) func vsigmoid(_ x: Vec8) -> Vec8 { 1 / (1 + vexp(-x)) }

/// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7): for x ≥ 0,
/// erf x = 1 − (a₁t + … + a₅t⁵)·e^(−x²), t = 1 / (1 + p·x); odd extension for x < 0.
@inline(__always) func verf(_ x: Vec8) -> Vec8 {
    let ax = x.replacing(with: -x, where: x .< 0)
    let t = 1 / (1 + 0.327_591_1 * ax)
    var poly = Vec8(repeating: 1.061_405_429)
    poly = fma8(Vec8(repeating: -1.453_152_027), poly, t)
    poly = fma8(Vec8(repeating: 1.421_413_741), poly, t)
    poly = fma8(Vec8(repeating: -0.284_496_736), poly, t)
    poly = fma8(Vec8(repeating: 0.254_829_592), poly, t)
    poly = poly * t
    let y = 1 - poly * vexp(-ax * ax)
    return y.replacing(with: -y, where: x .< 0)
}

/// Scalar versions for the tails of loops whose length is not a multiple of 8.
@inline(__always) func sexp(_ x: Float) -> Float { vexp(Vec8(repeating: x))[0] }
@inline(__always) func serf(_ x: Float) -> Float { verf(Vec8(repeating: x))[0] }

/// acc + a·b, fused into one rounding when the build targets FMA hardware (MSCM_FMA).
@inline(__always) func fma8(_ acc: Vec8, _ a: Vec8, _ b: Vec8) -> Vec8 {
#if MSCM_FMA
    return acc.addingProduct(a, b)
#else
    return acc + a * b
#endif
}

/// Σ p[i] for i in 0..<n, with eight partial sums.
@inline(__always) func vsum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec8(), i = 0
    while i + 8 <= n { acc += load8(p + i); i += 8 }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Σ a[i]·b[i] for i in 0..<n.
@inline(__always) func vdot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec8(), i = 0
    while i + 8 <= n { acc += load8(a + i) * load8(b + i); i += 8 }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// Σ (p[i] − c)² for i in 0..<n.
@inline(__always) func vsumSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ c: Float) -> Float {
    var acc = Vec8(), i = 0
    let cv = Vec8(repeating: c)
    while i + 8 <= n { let d = load8(p + i) - cv; acc += d * d; i += 8 }
    var s = acc.sum()
    while i < n { let d = p[i] - c; s += d * d; i += 1 }
    return s
}

/// max p[i] for i in 0..<n (n > 0).
@inline(__always) func vmax(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity, i = 0
    if n >= 8 {
        var acc = Vec8(repeating: -.infinity)
        while i + 8 <= n { acc = vmaximum(acc, load8(p + i)); i += 8 }
        m = acc.max()
    }
    while i < n { m = Swift.max(m, p[i]); i += 1 }
    return m
}

/// dst[i] += src[i] for i in 0..<n.
@inline(__always) func vaccumulate(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { dst[i] += src[i] }
}
