import Tensors

/// A trainable tensor with its gradient buffer and full dotted name (`down.0.res.1.conv1.weight`).
public final class Parameter {
    public let name: String
    public let value: Tensor
    /// Gradient accumulator: backward passes add into it; `AdamW.zeroGrad()` clears it.
    public let grad: Tensor
    /// Whether AdamW's decoupled weight decay applies (weights and embeddings yes; biases and
    /// normalisation gains no).
    public let decays: Bool

    public init(name: String, value: Tensor, decays: Bool = true) {
        self.name = name
        self.value = value
        self.grad = Tensor(shape: value.shape)
        self.decays = decays
    }
}

/// Anything holding parameters: layers and the networks built from them.
public protocol Module: AnyObject {
    /// Every parameter, recursively, in a stable order.
    var parameters: [Parameter] { get }
}

public struct ModuleLoadError: Error, CustomStringConvertible {
    public let description: String
}

extension Module {
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    public func zeroGrad() { for p in parameters { p.grad.zero() } }

    /// (name, value) pairs for saving, e.g. with `SafeTensors.write`.
    public func namedTensors() -> [(String, Tensor)] { parameters.map { ($0.name, $0.value) } }

    /// Copies `tensors[p.name]` into every parameter p. Missing names or shape mismatches
    /// throw, naming the parameter; with `strict`, unused tensors throw too.
    public func load(_ tensors: [String: Tensor], strict: Bool = true) throws {
        let params = parameters
        for p in params {
            guard let t = tensors[p.name] else { throw ModuleLoadError(description: "missing tensor '\(p.name)'") }
            guard t.shape == p.value.shape else {
                throw ModuleLoadError(description: "tensor '\(p.name)' has shape \(t.shape), expected \(p.value.shape)")
            }
            p.value.copy(from: t)
        }
        if strict {
            let known = Set(params.map(\.name))
            if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
                throw ModuleLoadError(description: "unexpected tensor '\(extra)'")
            }
        }
    }
}

/// Joins a module prefix and a leaf name with a dot ("" prefix gives the leaf alone).
@inline(__always) public func dotted(_ prefix: String, _ leaf: String) -> String {
    prefix.isEmpty ? leaf : prefix + "." + leaf
}

/// Deterministic initial values: each parameter draws from its own RNG stream, derived from
/// its full name (FNV-1a), so values do not depend on construction order.
public enum Initializer {
    public static func stream(for name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// N(0, std²) values for `name`.
    public static func normal(_ shape: [Int], std: Float, name: String, rng: CounterRNG) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        rng.fillNormal(t.buffer, stream: stream(for: name))
        if std != 1 { t.scale(by: std) }
        return t
    }
}
