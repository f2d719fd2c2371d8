// The caption grammar of the shapes world (Prompts/grammar.txt):
//
//   caption    := "a" size colour shape position "on a" background "background"
//   position   := "in the centre" | "at the top left" | "at the top right"
//               | "at the bottom left" | "at the bottom right"
//
// e.g. "a small red circle at the top left on a black background". Each scene has exactly one
// caption, so parsing recovers the labels.

/// A caption outside the grammar; the message quotes it and says what was expected where.
public struct CaptionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum Caption {
    /// The caption of `labels`.
    public static func text(_ labels: SceneLabels) -> String {
        "a \(labels.name(of: .size)) \(labels.name(of: .colour)) \(labels.name(of: .shape)) "
            + "\(labels.name(of: .position)) on a \(labels.name(of: .background)) background"
    }

    /// Words of a caption: lower-cased, split at anything that is not a letter (so case, extra
    /// spaces and punctuation such as a final full stop do not matter).
    public static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter }.map(String.init)
    }

    /// The labels of a caption of the grammar, or a one-line `CaptionError`.
    public static func parse(_ text: String) throws -> SceneLabels {
        let words = self.words(text)
        var at = 0
        func fail(_ expected: String) -> CaptionError {
            let found = at < words.count ? "'\(words[at])'" : "the end of the caption"
            return CaptionError("caption '\(text)' is outside the shapes grammar: expected \(expected) at word \(at + 1), found \(found)")
        }
        func literal(_ phrase: String) throws {
            let want = phrase.split(separator: " ").map(String.init)
            guard words.count >= at + want.count, Array(words[at..<(at + want.count)]) == want else {
                throw fail("'\(phrase)'")
            }
            at += want.count
        }
        func attribute(_ a: SceneAttribute) throws -> Int {
            // Longest phrase first, so no alternative can shadow a longer one.
            let options = a.classNames.enumerated().map { ($0.offset, $0.element.split(separator: " ").map(String.init)) }
                .sorted { $0.1.count > $1.1.count }
            for (index, want) in options where words.count >= at + want.count && Array(words[at..<(at + want.count)]) == want {
                at += want.count
                return index
            }
            throw fail("a \(a) (\(a.classNames.joined(separator: ", ")))")
        }
        try literal("a")
        let size = try attribute(.size)
        let colour = try attribute(.colour)
        let shape = try attribute(.shape)
        let position = try attribute(.position)
        try literal("on a")
        let background = try attribute(.background)
        try literal("background")
        guard at == words.count else {
            throw CaptionError("caption '\(text)' is outside the shapes grammar: unexpected '\(words[at])' after the end at word \(at + 1)")
        }
        return SceneLabels(shape: shape, colour: colour, size: size, position: position, background: background)
    }
}
