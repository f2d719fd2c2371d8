import Tensors

// Pointwise activations. Each backward takes the forward's input x (not its output).
//   SiLU:  y = x·σ(x),                 y' = σ(x)·(1 + x·(1 − σ(x)))
//   GELU:  y = x·Φ(x) = ½x(1 + erf(x/√2)),  y' = Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
// GELU is the exact (erf) form, PyTorch's nn.GELU() default; erf is A&S 7.1.26 (|err| < 1.5e-7, < 5e-7 in float).

/// Applies `f8` to x in blocks of eight (and to the tail through a padded block).
@inline(__always)
func mapPointwise(_ x: Tensor, _ f8: (Vec8) -> Vec8) -> Tensor {
    let y = Tensor(uninitializedShape: x.shape)
    let xp = x.data, yp = y.data, n = x.count
    let blocks = n / 8
    Parallel.forRanges(blocks, grain: 2048) { range in
        for blk in range { store8(f8(load8(xp + blk * 8)), yp + blk * 8) }
    }
    var i = blocks * 8
    if i < n {
        var v = Vec8()
        for j in 0..<(n - i) { v[j] = xp[i + j] }
        let r = f8(v)
        while i < n { yp[i] = r[i - blocks * 8]; i += 1 }
    }
    return y
}

/// dx = dy ∘ f'(x), with `d8(x)` computing f'(x) in blocks of eight.
@inline(__always)
func mapPointwiseGrad(_ dy: Tensor, _ x: Tensor, _ op: String, _ d8: (Vec8) -> Vec8) -> Tensor {
    checkSameShape(dy, x, op)
    let dx = Tensor(uninitializedShape: x.shape)
    let xp = x.data, dyp = dy.data, dxp = dx.data, n = x.count
    let blocks = n / 8
    Parallel.forRanges(blocks, grain: 2048) { range in
        for blk in range { store8(load8(dyp + blk * 8) * d8(load8(xp + blk * 8)), dxp + blk * 8) }
    }
    var i = blocks * 8
    if i < n {
        var v = Vec8()
        for j in 0..<(n - i) { v[j] = xp[i + j] }
        let r = d8(v)
        while i < n { dxp[i] = dyp[i] * r[i - blocks * 8]; i += 1 }
    }
    return dx
}

@inline(__always) func siluDerivative(_ x: Vec8) -> Vec8 {
    let s = vsigmoid(x)
    return s * (1 + x * (1 - s))
}

@inline(__always) func geluValue(_ x: Vec8) -> Vec8 { 0.5 * x * (1 + verf(x * 0.707_106_781_186_547_5)) }

@inline(__always) func geluDerivative(_ x: Vec8) -> Vec8 {
    let cdf = 0.5 * (1 + verf(x * 0.707_106_781_186_547_5))
    let pdf = vexp(-0.5 * x * x) * 0.398_942_280_401_432_7
    return cdf + x * pdf
}

public func siluForward(_ x: Tensor) -> Tensor { mapPointwise(x) { $0 * vsigmoid($0) } }
public func siluBackward(_ dy: Tensor, x: Tensor) -> Tensor { mapPointwiseGrad(dy, x, "silu backward", siluDerivative) }

public func geluForward(_ x: Tensor) -> Tensor { mapPointwise(x, geluValue) }
public func geluBackward(_ dy: Tensor, x: Tensor) -> Tensor { mapPointwiseGrad(dy, x, "gelu backward", geluDerivative) }
