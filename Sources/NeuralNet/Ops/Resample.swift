import Tensors

// 2×2 average pooling and nearest-neighbour 2× upsampling, channels-last [B, H, W, C].
//   pool:      y(i, j) = ¼ Σ_{a,b∈{0,1}} x(2i+a, 2j+b),   dx(2i+a, 2j+b) = ¼ dy(i, j)
//   upsample:  y(i, j) = x(⌊i/2⌋, ⌊j/2⌋),                dx(i, j) = Σ_{a,b} dy(2i+a, 2j+b)

/// [B, H, W, C] → [B, H/2, W/2, C] (H and W even).
public func avgPool2x2Forward(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[1] % 2 == 0 && x.shape[2] % 2 == 0,
                 "avg pool 2×2: input must be [B, H, W, C] with even H and W, got \(x.shape)")
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let y = Tensor(uninitializedShape: [b, h / 2, w / 2, c])
    let xp = x.data, yp = y.data
    Parallel.forEach(b * h / 2) { row in          // row = example · (H/2) + i
        let i = row % (h / 2), e = row / (h / 2)
        let top = xp + ((e * h + 2 * i) * w) * c, bottom = top + w * c
        let out = yp + row * (w / 2) * c
        for j in 0..<(w / 2) {
            let t = top + 2 * j * c, bt = bottom + 2 * j * c, o = out + j * c
            for ch in 0..<c { o[ch] = 0.25 * (t[ch] + t[c + ch] + bt[ch] + bt[c + ch]) }
        }
    }
    return y
}

public func avgPool2x2Backward(_ dy: Tensor, inputShape: [Int]) -> Tensor {
    let (b, h, w, c) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
    checkShape(dy, [b, h / 2, w / 2, c], "avg pool 2×2 backward")
    let dx = Tensor(uninitializedShape: inputShape)
    let dyp = dy.data, dxp = dx.data
    Parallel.forEach(b * h / 2) { row in
        let i = row % (h / 2), e = row / (h / 2)
        let top = dxp + ((e * h + 2 * i) * w) * c, bottom = top + w * c
        let g = dyp + row * (w / 2) * c
        for j in 0..<(w / 2) {
            let t = top + 2 * j * c, bt = bottom + 2 * j * c, gj = g + j * c
            for ch in 0..<c {
                let v = 0.25 * gj[ch]
                t[ch] = v; t[c + ch] = v; bt[ch] = v; bt[c + ch] = v
            }
        }
    }
    return dx
}

/// [B, H, W, C] → [B, 2H, 2W, C].
public func upsample2xForward(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "upsample 2×: input must be [B, H, W, C], got \(x.shape)")
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let y = Tensor(uninitializedShape: [b, 2 * h, 2 * w, c])
    let xp = x.data, yp = y.data
    Parallel.forEach(b * h) { row in               // row = example · H + i (source row)
        let src = xp + row * w * c
        let top = yp + 2 * row * (2 * w) * c, bottom = top + 2 * w * c
        for j in 0..<w {
            let s = src + j * c
            (top + 2 * j * c).update(from: s, count: c); (top + (2 * j + 1) * c).update(from: s, count: c)
        }
        bottom.update(from: top, count: 2 * w * c)
    }
    return y
}

public func upsample2xBackward(_ dy: Tensor, inputShape: [Int]) -> Tensor {
    let (b, h, w, c) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
    checkShape(dy, [b, 2 * h, 2 * w, c], "upsample 2× backward")
    let dx = Tensor(uninitializedShape: inputShape)
    let dyp = dy.data, dxp = dx.data
    Parallel.forEach(b * h) { row in
        let out = dxp + row * w * c
        let top = dyp + 2 * row * (2 * w) * c, bottom = top + 2 * w * c
        for j in 0..<w {
            let o = out + j * c, t = top + 2 * j * c, bt = bottom + 2 * j * c
            for ch in 0..<c { o[ch] = t[ch] + t[c + ch] + bt[ch] + bt[c + ch] }
        }
    }
    return dx
}

// Space-to-depth (2×2 patches → channels) and its inverse: exact permutations, so each one's
// backward is the other.
//   spaceToDepth: y(b, i, j, (a·2 + c)·C + ch) = x(b, 2i + a, 2j + c, ch)

/// [B, H, W, C] → [B, H/2, W/2, 4C] (H and W even).
public func spaceToDepth2x2(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[1] % 2 == 0 && x.shape[2] % 2 == 0,
                 "space to depth: input must be [B, H, W, C] with even H and W, got \(x.shape)")
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let y = Tensor(uninitializedShape: [b, h / 2, w / 2, 4 * c])
    permute2x2(x.data, y.data, batch: b, h: h, w: w, c: c, toDepth: true)
    return y
}

/// [B, H, W, 4C] → [B, 2H, 2W, C].
public func depthToSpace2x2(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[3] % 4 == 0, "depth to space: input must be [B, H, W, 4C], got \(x.shape)")
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3] / 4)
    let y = Tensor(uninitializedShape: [b, 2 * h, 2 * w, c])
    permute2x2(y.data, x.data, batch: b, h: 2 * h, w: 2 * w, c: c, toDepth: false)
    return y
}

/// Copies between the spatial tensor `space` [B, H, W, C] and `depth` [B, H/2, W/2, 4C].
func permute2x2(_ space: UnsafeMutablePointer<Float>, _ depth: UnsafeMutablePointer<Float>,
                batch: Int, h: Int, w: Int, c: Int, toDepth: Bool) {
    Parallel.forEach(batch * h, grain: 4) { line in          // one spatial row
        let y = line % h, image = line / h
        for x in 0..<w {
            let s = space + ((image * h + y) * w + x) * c
            let d = depth + ((image * (h / 2) + y / 2) * (w / 2) + x / 2) * 4 * c + ((y % 2) * 2 + x % 2) * c
            if toDepth { d.update(from: s, count: c) } else { s.update(from: d, count: c) }
        }
    }
}
