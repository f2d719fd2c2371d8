import Tensors

/// 2×2 average pooling, [B, H, W, C] → [B, H/2, W/2, C]. No parameters.
public final class AvgPool2x2: Module {
    private var savedShape: [Int]?
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        if save { savedShape = x.shape }
        return avgPool2x2Forward(x)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let shape = savedShape else { preconditionFailure("avg pool: backward without a saved forward") }
        savedShape = nil
        return avgPool2x2Backward(dy, inputShape: shape)
    }
}

/// Nearest-neighbour 2× upsampling, [B, H, W, C] → [B, 2H, 2W, C]. No parameters.
public final class Upsample2x: Module {
    private var savedShape: [Int]?
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor, save: Bool) -> Tensor {
        if save { savedShape = x.shape }
        return upsample2xForward(x)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let shape = savedShape else { preconditionFailure("upsample: backward without a saved forward") }
        savedShape = nil
        return upsample2xBackward(dy, inputShape: shape)
    }
}
