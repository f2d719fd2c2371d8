import Formats
import Foundation
import JobQueue
import Models

/// Unknown words are never silent: before an `evaluate` job is submitted or scheduled, each
/// prompt is checked against the vocabulary of every model it will be drawn with, and each
/// prompt with words a model lacks gives one warning line naming them. Only a model file's
/// header is read (its metadata holds the vocabulary).
public enum PromptVocabularyCheck {
    public static let maxLinesPerModel = 5

    /// Warning lines for a (pinned) `evaluate` spec; empty when every word is known, and when
    /// the prompts or models cannot be read here (the job's own validation reports those).
    public static func warnings(evaluateSpec spec: JSON, store: ArtifactStore) -> [String] {
        // An evaluator trained on an image folder draws its prompts from that dataset's split,
        // whose words the models learned from the same training captions: the shapes-world
        // lists below are not its prompts.
        if let ref = spec["evaluator"]?.string, let info = try? store.info(ref), let header = try? store.modelHeader(info),
           header.datasetSource != "shapes" { return [] }
        guard let prompts = try? EvaluateJob.prompts(spec["prompts"]?.string ?? "heldout") else { return [] }
        var models: [(name: String, tokenizer: Tokenizer)] = []
        for text in spec["entries"]?.array?.compactMap(\.string) ?? [] {
            guard case .success(let entry) = EvaluationEntry.parse(text), let info = try? store.info(entry.model),
                  !models.contains(where: { $0.name == info.name }), let tokenizer = try? vocabulary(info.sha256, store: store) else { continue }
            models.append((info.name, tokenizer))
        }
        var lines: [String] = []
        // Models sharing a vocabulary share their lines.
        var groups: [(names: [String], tokenizer: Tokenizer)] = []
        for m in models {
            if let i = groups.firstIndex(where: { $0.tokenizer == m.tokenizer }) { groups[i].names.append(m.name) }
            else { groups.append(([m.name], m.tokenizer)) }
        }
        for g in groups {
            let warned = prompts.compactMap { p in g.tokenizer.unknownWordsWarning(p).map { "\(g.names.joined(separator: ", ")): \($0)" } }
            // A model evaluated on prompts of another world would warn on every prompt: the
            // first few name the words, one line counts the rest.
            lines += warned.prefix(maxLinesPerModel)
            if warned.count > maxLinesPerModel {
                lines.append("\(g.names.joined(separator: ", ")): \(warned.count - maxLinesPerModel) more of the \(prompts.count) prompts hold unknown words")
            }
        }
        return lines
    }

    /// The tokenizer stored in a model artifact's safetensors header.
    static func vocabulary(_ sha256: String, store: ArtifactStore) throws -> Tokenizer? {
        let data = try store.data(sha256)
        guard data.count >= 8 else { return nil }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8),
              let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + Int(n)))) as? [String: Any],
              let meta = header["__metadata__"] as? [String: String], let words = meta["tokenizer"],
              let length = meta["tokenizer_max_length"].flatMap(Int.init), length >= 2 else { return nil }
        let list = words.split(separator: " ").map(String.init)
        guard Set(list).count == list.count else { return nil }
        return Tokenizer(words: list, maxLength: length)
    }
}
