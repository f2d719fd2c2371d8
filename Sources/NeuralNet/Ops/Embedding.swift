import Tensors

// Embedding lookup: out[i] = table[ids[i]] for a table [V, C]; backward scatter-adds
// dOut[i] into row ids[i] of the table's gradient (repeated ids accumulate).

/// ids (each in 0..<V) → [ids.count, C].
public func embeddingForward(_ ids: [Int], table: Tensor) -> Tensor {
    precondition(table.rank == 2, "embedding: table must be [V, C], got \(table.shape)")
    let (v, c) = (table.shape[0], table.shape[1])
    let out = Tensor(uninitializedShape: [ids.count, c])
    let tp = table.data, op = out.data
    for (i, id) in ids.enumerated() {
        precondition(id >= 0 && id < v, "embedding: id \(id) at position \(i) outside 0..<\(v)")
        (op + i * c).update(from: tp + id * c, count: c)
    }
    return out
}

public func embeddingBackward(_ dOut: Tensor, ids: [Int], tableGrad: Tensor) {
    let c = tableGrad.shape[1]
    precondition(dOut.count == ids.count * c, "embedding backward: shape mismatch: dOut \(dOut.shape) vs \(ids.count) ids × \(c)")
    let gp = dOut.data, tg = tableGrad.data
    for (i, id) in ids.enumerated() { vaccumulate(tg + id * c, gp + i * c, c) }
}
