import Tensors

/// Multi-head attention (ALGORITHMS-independent building block of the UViT and text encoder).
/// Self-attention: q, k, v = split(x·W_qkv + b_qkv); cross-attention (contextDim given):
/// q = x·W_q + b_q, k, v = split(context·W_kv + b_kv). Then per head
/// O = softmax(QKᵀ/√D, masked keys → 0)·V and y = O·W_out + b_out.
/// x: [B, T, C], context: [B, Tc, Cc], keyMask: [B, Tk] of 0/1 (0 = ignore that key).
/// Init: every projection as `Linear` (W ~ N(0, 1/fan_in), b = 0).
/// Parameters: `<name>.qkv.*` (self) or `<name>.q.*` and `<name>.kv.*` (cross), `<name>.out.*`.
public final class MultiHeadAttention: Module {
    public let name: String
    public let dim: Int
    public let heads: Int
    public let qkv: Linear?
    public let q: Linear?
    public let kv: Linear?
    public let out: Linear
    private var saved: (q: Tensor, kv: Tensor, probs: Tensor)?

    public init(dim: Int, heads: Int, contextDim: Int? = nil, name: String, rng: CounterRNG) {
        precondition(heads > 0 && dim % heads == 0, "\(name): \(dim) channels do not split into \(heads) heads")
        self.name = name; self.dim = dim; self.heads = heads
        if let contextDim {
            qkv = nil
            q = Linear(inFeatures: dim, outFeatures: dim, name: dotted(name, "q"), rng: rng)
            kv = Linear(inFeatures: contextDim, outFeatures: 2 * dim, name: dotted(name, "kv"), rng: rng)
        } else {
            qkv = Linear(inFeatures: dim, outFeatures: 3 * dim, name: dotted(name, "qkv"), rng: rng)
            q = nil; kv = nil
        }
        out = Linear(inFeatures: dim, outFeatures: dim, name: dotted(name, "out"), rng: rng)
    }

    public var isCrossAttention: Bool { qkv == nil }

    public var parameters: [Parameter] {
        (qkv?.parameters ?? []) + (q?.parameters ?? []) + (kv?.parameters ?? []) + out.parameters
    }

    /// x: [B, T, C] → [B, T, C]. `context` is required for cross-attention and must be nil for
    /// self-attention; `keyMask` covers the keys (context tokens for cross, x's tokens for self).
    public func forward(_ x: Tensor, context: Tensor? = nil, keyMask: Tensor? = nil, save: Bool) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == dim, "\(name): input \(x.shape) is not [B, T, \(dim)]")
        precondition((context != nil) == isCrossAttention,
                     isCrossAttention ? "\(name): cross-attention needs a context" : "\(name): self-attention takes no context")
        let (b, t) = (x.shape[0], x.shape[1]), d = dim / heads
        let attn = Tensor(uninitializedShape: [b, t, dim])
        let probs: Tensor, qTensor: Tensor, kvTensor: Tensor
        if let qkv {
            let fused = qkv.forward(x, save: save)
            probs = attentionForward(q: RowMajorSlice(fused), k: RowMajorSlice(fused, offset: dim),
                                     v: RowMajorSlice(fused, offset: 2 * dim), out: RowMajorSlice(attn),
                                     batch: b, tq: t, tk: t, heads: heads, headDim: d, keyMask: keyMask)
            qTensor = fused; kvTensor = fused
        } else {
            let context = context!
            precondition(context.rank == 3 && context.shape[0] == b,
                         "\(name): shape mismatch: context \(context.shape) vs input \(x.shape)")
            qTensor = q!.forward(x, save: save)
            kvTensor = kv!.forward(context, save: save)
            probs = attentionForward(q: RowMajorSlice(qTensor), k: RowMajorSlice(kvTensor),
                                     v: RowMajorSlice(kvTensor, offset: dim), out: RowMajorSlice(attn),
                                     batch: b, tq: t, tk: context.shape[1], heads: heads, headDim: d, keyMask: keyMask)
        }
        if save { saved = (qTensor, kvTensor, probs) }
        return out.forward(attn, save: save)
    }

    /// Returns dx and, for cross-attention, the context's gradient.
    public func backward(_ dy: Tensor) -> (dx: Tensor, dContext: Tensor?) {
        guard let (qT, kvT, probs) = saved else { preconditionFailure("\(name): backward without a saved forward") }
        saved = nil
        let dAttn = out.backward(dy)
        let (b, tq, tk) = (probs.shape[0], probs.shape[2], probs.shape[3]), d = dim / heads
        if let qkv {
            let dFused = Tensor(uninitializedShape: qT.shape)
            attentionBackward(dOut: RowMajorSlice(dAttn), q: RowMajorSlice(qT), k: RowMajorSlice(qT, offset: dim),
                              v: RowMajorSlice(qT, offset: 2 * dim), probs: probs,
                              dq: RowMajorSlice(dFused), dk: RowMajorSlice(dFused, offset: dim), dv: RowMajorSlice(dFused, offset: 2 * dim),
                              batch: b, tq: tq, tk: tk, heads: heads, headDim: d)
            return (qkv.backward(dFused), nil)
        }
        let dq = Tensor(uninitializedShape: qT.shape), dkv = Tensor(uninitializedShape: kvT.shape)
        attentionBackward(dOut: RowMajorSlice(dAttn), q: RowMajorSlice(qT), k: RowMajorSlice(kvT),
                          v: RowMajorSlice(kvT, offset: dim), probs: probs,
                          dq: RowMajorSlice(dq), dk: RowMajorSlice(dkv), dv: RowMajorSlice(dkv, offset: dim),
                          batch: b, tq: tq, tk: tk, heads: heads, headDim: d)
        return (q!.backward(dq), kv!.backward(dkv))
    }
}
