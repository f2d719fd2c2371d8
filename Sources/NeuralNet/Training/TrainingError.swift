import Tensors

/// Training stops on a non-finite loss or gradient with one line saying where.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFiniteLoss(value: Float, step: Int?)
    case nonFiniteGradient(parameter: String, step: Int?)
    case badState(String)

    public var description: String {
        let at: (Int?) -> String = { $0.map { " at step \($0)" } ?? "" }
        switch self {
        case let .nonFiniteLoss(value, step): return "training stopped: loss is \(value)\(at(step))"
        case let .nonFiniteGradient(name, step): return "training stopped: gradient of '\(name)' is not finite\(at(step))"
        case let .badState(message): return message
        }
    }
}

/// Throws `TrainingError.nonFiniteLoss` unless `loss` is finite.
public func checkFinite(loss: Float, step: Int? = nil) throws {
    guard loss.isFinite else { throw TrainingError.nonFiniteLoss(value: loss, step: step) }
}
