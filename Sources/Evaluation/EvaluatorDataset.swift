import Formats
import Foundation
import NeuralNet

/// The dataset an evaluator was trained on, recorded in its file (metadata `dataset`,
/// `dataset_name`, `dataset_heldout`) so that every score names it and `evaluate` can refuse to
/// judge models trained on other data.
///
/// `source` is what a teacher's training config records as its `dataset`: "shapes", the
/// sha256 of an imported dataset artifact (pinned at submit), or an absolute folder path — so
/// an evaluator and a model agree exactly when these strings are equal.
public struct EvaluatorDataset: Equatable, Sendable {
    public let source: String
    /// A name for people: the artifact's name, the folder's last component, or "shapes".
    public let name: String
    /// The held-out fraction the evaluator's split used (a folder without a split column);
    /// `evaluate` takes its held-out prompts and reference pictures from the same split.
    public let heldout: Double

    public static let shapes = EvaluatorDataset(source: "shapes", name: "shapes", heldout: 0)

    public init(source: String, name: String, heldout: Double) {
        self.source = source; self.name = name; self.heldout = heldout
    }

    public var isShapes: Bool { source == "shapes" }

    /// "my-pictures (340378380bcf)", "shapes", or the folder path.
    public var description: String {
        if isShapes { return "shapes" }
        if source.count == 64, source.allSatisfy(\.isHexDigit) { return "\(name) (\(source.prefix(12)))" }
        return source
    }

    var metadata: [String: String] {
        ["dataset": source, "dataset_name": name, "dataset_heldout": String(heldout)]
    }

    /// Reads and checks the dataset fields of an evaluator file's metadata (a file without
    /// them predates folder evaluators and was trained on the shapes world).
    static func read(_ metadata: [String: String], source file: String) throws -> EvaluatorDataset {
        guard let source = metadata["dataset"] else { return .shapes }
        func fail(_ s: String) -> EvaluationError { EvaluationError("\(file): metadata.\(s)") }
        guard !source.isEmpty, source.utf8.count <= 4096, !source.contains(where: \.isNewline) else {
            throw fail("dataset must be 'shapes', a sha256 or a folder path of 1–4096 bytes")
        }
        if source == "shapes" { return .shapes }
        guard let name = metadata["dataset_name"], !name.isEmpty, name.utf8.count <= 200, !name.contains(where: \.isNewline) else {
            throw fail("dataset_name must be 1–200 bytes on one line")
        }
        guard let text = metadata["dataset_heldout"], let heldout = Double(text), (0...0.99).contains(heldout) else {
            throw fail("dataset_heldout must be a number in 0…0.99, got '\(printableField(metadata["dataset_heldout"] ?? ""))'")
        }
        return EvaluatorDataset(source: source, name: name, heldout: heldout)
    }
}
