import Foundation

/// A problem with evaluation input or output (a corrupt statistics file, mismatched feature
/// dimensions, an unwritable report directory). Always one line naming what is wrong.
public struct EvaluationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
