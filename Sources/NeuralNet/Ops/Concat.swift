import Tensors

// Concatenation along the last (channel) axis, channels-last: parts [N…, C_i] with equal
// leading axes → [N…, Σ C_i]. The backward splits the gradient back into the parts.

public func concatLastAxis(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty, "concat: no inputs")
    let lead = Array(parts[0].shape.dropLast())
    for p in parts {
        precondition(p.rank == parts[0].rank && Array(p.shape.dropLast()) == lead,
                     "concat: shape mismatch: \(parts.map(\.shape)) differ before the last axis")
    }
    let widths = parts.map { $0.shape.last! }, total = widths.reduce(0, +)
    let rows = lead.reduce(1, *)
    let out = Tensor(uninitializedShape: lead + [total])
    let op = out.data, srcs = parts.map(\.data)
    Parallel.forRanges(rows, grain: max(1, 8192 / max(total, 1))) { range in
        for r in range {
            var col = 0
            for (p, wdt) in zip(srcs, widths) { (op + r * total + col).update(from: p + r * wdt, count: wdt); col += wdt }
        }
    }
    return out
}

/// Splits dOut [N…, Σ C_i] into [N…, C_i] pieces of the given widths.
public func splitLastAxis(_ dOut: Tensor, widths: [Int]) -> [Tensor] {
    let total = widths.reduce(0, +)
    precondition(dOut.shape.last == total, "concat backward: shape mismatch: \(dOut.shape) vs widths \(widths)")
    let lead = Array(dOut.shape.dropLast()), rows = lead.reduce(1, *)
    let outs = widths.map { Tensor(uninitializedShape: lead + [$0]) }
    let gp = dOut.data, dsts = outs.map(\.data)
    Parallel.forRanges(rows, grain: max(1, 8192 / max(total, 1))) { range in
        for r in range {
            var col = 0
            for (d, wdt) in zip(dsts, widths) { (d + r * wdt).update(from: gp + r * total + col, count: wdt); col += wdt }
        }
    }
    return outs
}
