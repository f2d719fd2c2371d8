import Tensors

// Multi-head scaled dot-product attention (self or cross), with an optional key mask.
// Dimensions: B examples, Tq queries, Tk keys, H heads of D = C / H channels.
// q: [B, Tq, C], k, v: [B, Tk, C]; head h uses channels h·D ..< (h+1)·D of each row.
//   S = QKᵀ/√D,  P = softmax(S) over keys (masked keys get P = 0),  O = P·V
// Backward: dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ∘ (dP − rowsum(dP ∘ P)),
//           dQ = dS·K/√D,  dK = dSᵀ·Q/√D.
// Each (example, head) pair is one job of small products on the micro-kernel (SmallGemm.swift)
// plus a softmax; jobs are spread over both cores. The forward keeps P ([B, H, Tq, Tk]) for
// the backward.

/// Rows of a [B·T, ld] matrix used from column `offset` on: lets the kernels read q, k and v
/// straight out of a fused projection ([B, T, 3C]) without copying them apart.
public struct RowMajorSlice {
    public let base: UnsafeMutablePointer<Float>
    public let ld: Int
    public init(_ tensor: Tensor, offset: Int = 0) {
        base = tensor.data + offset
        ld = tensor.shape.last ?? 1
    }
    @inline(__always) func head(_ b: Int, _ h: Int, rows: Int, d: Int) -> UnsafeMutablePointer<Float> {
        base + b * rows * ld + h * d
    }
}

/// Per-core scratch for the attention jobs: packed operands, a score-sized buffer, a transpose
/// buffer and a pointer table.
struct AttentionScratch {
    let storage: TensorStorage
    let packed: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, transposed: UnsafeMutablePointer<Float>
    let pointers: UnsafeMutablePointer<UnsafePointer<Float>>

    init(tq: Int, tk: Int, d: Int) {
        let t = max(tq, tk)
        let packedCount = max((tk + 15) / 16 * d, (d + 15) / 16 * t) * 16
        storage = TensorStorage(capacity: packedCount + 2 * tq * tk, zeroed: false)
        packed = storage.pointer; scores = packed + packedCount; transposed = scores + tq * tk
        pointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 6)
    }
    func release() { pointers.deallocate() }
}

/// out = MHA core over q, k, v slices; returns probabilities [B, H, Tq, Tk].
/// `keyMask`: [B, Tk] of 0/1 (0 = key ignored), or nil.
public func attentionForward(q: RowMajorSlice, k: RowMajorSlice, v: RowMajorSlice, out: RowMajorSlice,
                             batch: Int, tq: Int, tk: Int, heads: Int, headDim d: Int,
                             keyMask: Tensor?) -> Tensor {
    if let keyMask { checkShape(keyMask, [batch, tk], "attention key mask") }
    let probs = Tensor(uninitializedShape: [batch, heads, tq, tk])
    let pp = probs.data, mp = keyMask?.data
    let scale = 1 / Float(d).squareRoot()
    Parallel.forRanges(batch * heads) { jobs in
        let s = AttentionScratch(tq: tq, tk: tk, d: d)
        defer { s.release() }
        for job in jobs {
            let b = job / heads, h = job % heads
            let p = pp + job * tq * tk
            let qh = q.head(b, h, rows: tq, d: d), kh = k.head(b, h, rows: tk, d: d), vh = v.head(b, h, rows: tk, d: d)
            // S = Q·(Kᵀ/√D)
            packTransposedPanels(kh, n: tk, k: d, ld: k.ld, alpha: scale, into: s.packed)
            smallGemm(m: tq, n: tk, k: d, rows: { UnsafePointer(qh + $0 * q.ld) }, packed: s.packed, c: p, ldc: tk, pointers: s.pointers)
            let mask = mp.map { UnsafePointer($0 + b * tk) }
            for r in 0..<tq { softmaxRow(p + r * tk, tk, mask: mask) }
            // O = P·V
            packPanels(vh, k: tk, n: d, ld: v.ld, into: s.packed)
            smallGemm(m: tq, n: d, k: tk, rows: { UnsafePointer(p + $0 * tk) }, packed: s.packed,
                      c: out.head(b, h, rows: tq, d: d), ldc: out.ld, pointers: s.pointers)
        }
    }
    return probs
}

/// Backward of `attentionForward`: writes (overwrites) dq, dk, dv in their slices.
public func attentionBackward(dOut: RowMajorSlice, q: RowMajorSlice, k: RowMajorSlice, v: RowMajorSlice,
                              probs: Tensor, dq: RowMajorSlice, dk: RowMajorSlice, dv: RowMajorSlice,
                              batch: Int, tq: Int, tk: Int, heads: Int, headDim d: Int) {
    checkShape(probs, [batch, heads, tq, tk], "attention backward probabilities")
    let pp = probs.data
    let scale = 1 / Float(d).squareRoot()
    Parallel.forRanges(batch * heads) { jobs in
        let s = AttentionScratch(tq: tq, tk: tk, d: d)
        defer { s.release() }
        let ds = s.scores, t = s.transposed
        for job in jobs {
            let b = job / heads, h = job % heads
            let p = pp + job * tq * tk
            let dO = dOut.head(b, h, rows: tq, d: d)
            let qh = q.head(b, h, rows: tq, d: d), kh = k.head(b, h, rows: tk, d: d), vh = v.head(b, h, rows: tk, d: d)
            // dV = Pᵀ·dO
            transpose(p, rows: tq, cols: tk, into: t)
            packPanels(dO, k: tq, n: d, ld: dOut.ld, into: s.packed)
            smallGemm(m: tk, n: d, k: tq, rows: { UnsafePointer(t + $0 * tq) }, packed: s.packed,
                      c: dv.head(b, h, rows: tk, d: d), ldc: dv.ld, pointers: s.pointers)
            // dP = dO·Vᵀ, then dS = P ∘ (dP − ⟨P, dP⟩) in place
            packTransposedPanels(vh, n: tk, k: d, ld: v.ld, into: s.packed)
            smallGemm(m: tq, n: tk, k: d, rows: { UnsafePointer(dO + $0 * dOut.ld) }, packed: s.packed, c: ds, ldc: tk, pointers: s.pointers)
            for r in 0..<tq { softmaxRowBackward(p + r * tk, ds + r * tk, ds + r * tk, tk) }
            // dQ = dS·K/√D
            packPanels(kh, k: tk, n: d, ld: k.ld, alpha: scale, into: s.packed)
            smallGemm(m: tq, n: d, k: tk, rows: { UnsafePointer(ds + $0 * tk) }, packed: s.packed,
                      c: dq.head(b, h, rows: tq, d: d), ldc: dq.ld, pointers: s.pointers)
            // dK = dSᵀ·Q/√D
            transpose(ds, rows: tq, cols: tk, into: t)
            packPanels(qh, k: tq, n: d, ld: q.ld, alpha: scale, into: s.packed)
            smallGemm(m: tk, n: d, k: tq, rows: { UnsafePointer(t + $0 * tq) }, packed: s.packed,
                      c: dk.head(b, h, rows: tk, d: d), ldc: dk.ld, pointers: s.pointers)
        }
    }
}

/// Tensor form: q: [B, Tq, C], k, v: [B, Tk, C] → (out [B, Tq, C], probs [B, H, Tq, Tk]).
public func attentionForward(q: Tensor, k: Tensor, v: Tensor, heads: Int, keyMask: Tensor? = nil)
    -> (out: Tensor, probs: Tensor) {
    let (b, tq, tk, c) = attentionShapes(q, k, v, heads, "attention")
    let out = Tensor(uninitializedShape: [b, tq, c])
    let probs = attentionForward(q: RowMajorSlice(q), k: RowMajorSlice(k), v: RowMajorSlice(v), out: RowMajorSlice(out),
                                 batch: b, tq: tq, tk: tk, heads: heads, headDim: c / heads, keyMask: keyMask)
    return (out, probs)
}

/// Tensor form of the backward: returns (dq, dk, dv).
public func attentionBackward(_ dOut: Tensor, q: Tensor, k: Tensor, v: Tensor, probs: Tensor, heads: Int)
    -> (dq: Tensor, dk: Tensor, dv: Tensor) {
    let (b, tq, tk, c) = attentionShapes(q, k, v, heads, "attention backward")
    checkSameShape(dOut, q, "attention backward dOut")
    let dq = Tensor(uninitializedShape: q.shape), dk = Tensor(uninitializedShape: k.shape), dv = Tensor(uninitializedShape: v.shape)
    attentionBackward(dOut: RowMajorSlice(dOut), q: RowMajorSlice(q), k: RowMajorSlice(k), v: RowMajorSlice(v),
                      probs: probs, dq: RowMajorSlice(dq), dk: RowMajorSlice(dk), dv: RowMajorSlice(dv),
                      batch: b, tq: tq, tk: tk, heads: heads, headDim: c / heads)
    return (dq, dk, dv)
}

func attentionShapes(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ heads: Int, _ op: String) -> (Int, Int, Int, Int) {
    precondition(q.rank == 3 && k.rank == 3 && k.shape == v.shape && q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2],
                 "\(op): shape mismatch: q \(q.shape), k \(k.shape), v \(v.shape) (expected [B, Tq, C], [B, Tk, C], [B, Tk, C])")
    precondition(heads > 0 && q.shape[2] % heads == 0, "\(op): \(q.shape[2]) channels do not split into \(heads) heads")
    return (q.shape[0], q.shape[1], k.shape[1], q.shape[2])
}
