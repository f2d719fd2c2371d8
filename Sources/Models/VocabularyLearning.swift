import Foundation

/// What learning a vocabulary from training captions found: how many words it kept and how much
/// of the training text they cover. Training prints `line`, so no word is lost silently.
public struct VocabularyReport: Equatable, Sendable {
    /// Words in the vocabulary (ids = 4 special tokens + this).
    public let words: Int
    /// Distinct words in the training captions.
    public let distinctWords: Int
    /// Word occurrences in the training captions, and those that are vocabulary words.
    public let occurrences: Int
    public let covered: Int
    /// Words left out (below the minimum count or beyond the size cap), most frequent first.
    public let dropped: [String]
    public let minCount: Int
    /// Captions with more words than fit (`maxLength − 2`): their tail is cut.
    public let captionsCut: Int
    public let captions: Int
    /// Words a caption may hold (`maxLength − 2`).
    public let wordsPerCaption: Int

    /// Fraction of training word occurrences the vocabulary holds.
    public var coverage: Double { occurrences == 0 ? 1 : Double(covered) / Double(occurrences) }

    /// `vocabulary: 23 words learned from 570 training captions (min count 2); coverage 100.0 % of 3990 word occurrences`
    public var line: String {
        var s = "vocabulary: \(words) words learned from \(captions) training captions (min count \(minCount)); "
            + String(format: "coverage %.1f %% of %d word occurrences", 100 * coverage, occurrences)
        if !dropped.isEmpty {
            let shown = dropped.prefix(8).joined(separator: ", ")
            s += "; \(dropped.count) rare word\(dropped.count == 1 ? "" : "s") read as <unk> (\(shown)\(dropped.count > 8 ? ", …" : ""))"
        }
        if captionsCut > 0 { s += "; \(captionsCut) caption\(captionsCut == 1 ? "" : "s") cut at \(wordsPerCaption) words" }
        return s
    }
}

extension Tokenizer {
    /// The default minimum count: a word seen once gets a single gradient signal in its
    /// embedding row, which a small encoder cannot turn into a meaning; such words are reported
    /// and read as `unk`.
    public static let defaultMinWordCount = 2
    /// Cap on learned words (the text encoder's embedding table grows with it).
    public static let maxLearnedWords = 8192

    /// A vocabulary learned from training captions: every normalised word (`Tokenizer.words`)
    /// seen at least `minCount` times, most frequent first (ties alphabetical), at most
    /// `maxWords`. A pure function of the captions' multiset, so the same training split always
    /// gives the same ids.
    public static func learn(from captions: [String], minCount: Int = defaultMinWordCount, maxWords: Int = maxLearnedWords,
                             maxLength: Int = 16) -> (tokenizer: Tokenizer, report: VocabularyReport) {
        var counts: [String: Int] = [:]
        var cut = 0
        for c in captions {
            let w = words(c)
            if w.count > maxLength - 2 { cut += 1 }
            for x in w { counts[x, default: 0] += 1 }
        }
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let kept = ranked.filter { $0.value >= max(minCount, 1) }.prefix(max(maxWords, 0))
        let keptSet = Set(kept.map(\.key))
        let tokenizer = Tokenizer(words: kept.map(\.key), maxLength: maxLength)
        let report = VocabularyReport(
            words: kept.count, distinctWords: counts.count, occurrences: counts.values.reduce(0, +),
            covered: kept.reduce(0) { $0 + $1.value }, dropped: ranked.map(\.key).filter { !keptSet.contains($0) },
            minCount: max(minCount, 1), captionsCut: cut, captions: captions.count, wordsPerCaption: maxLength - 2)
        return (tokenizer, report)
    }

    /// One warning line naming the words of `prompt` this vocabulary lacks, or nil when it knows
    /// them all: `prompt "a purple dot": unknown words purple, dot (read as <unk>; the model's vocabulary has 23 words)`.
    public func unknownWordsWarning(_ prompt: String) -> String? {
        let unknown = unknownWords(in: prompt)
        guard !unknown.isEmpty else { return nil }
        return "prompt \(prompt.debugDescription): unknown word\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", "))"
            + " (read as <unk>; the model's vocabulary has \(words.count) words)"
    }
}
