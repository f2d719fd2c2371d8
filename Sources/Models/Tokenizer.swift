/// Word-level caption tokenizer. Its vocabulary is data: the shapes world's 28 grammar words
/// (`Tokenizer.shapes`), or words learned from a dataset's training captions
/// (`Tokenizer.learn`), stored in every model file and read back by everything that loads it.
///
/// Why word-level: one token per word gives the text encoder short sequences whose tokens are
/// whole concepts ("red", "triangle", "striped") — far easier for a small model to learn in
/// minutes than bytes or sub-word pieces. Words outside the vocabulary become `unk`; callers
/// report them (`unknownWords`) rather than letting them pass silently.
///
/// Ids: `pad` = 0, `unk` = 1, `bos` = 2, `eos` = 3, then the words in vocabulary order
/// (for the shapes world `Tokenizer.shapesWords`, first appearance in the caption template), so
/// ids are stable and a trained embedding table stays valid. Text is split by `Tokenizer.words`:
/// lower-cased, broken at anything that is not a letter or a digit.
///
/// A caption becomes `[bos, w₁, …, wₖ, eos, pad, …]` of exactly `maxLength` ids; more than
/// `maxLength − 2` words are cut (the `eos` is kept). `mask` is 1 on real tokens, 0 on padding;
/// even the empty caption (classifier-free guidance's unconditional input) has `[bos, eos]`, so
/// a masked mean never divides by zero.
public struct Tokenizer: Equatable {
    public static let pad: Int32 = 0, unk: Int32 = 1, bos: Int32 = 2, eos: Int32 = 3
    public static let specialTokens = ["<pad>", "<unk>", "<bos>", "<eos>"]

    /// The words after the special tokens; word `i` has id `4 + i`.
    public let words: [String]
    public let maxLength: Int
    private let ids: [String: Int32]

    /// The shapes world's 28 grammar words in order of first appearance in its caption template:
    /// `ShapesWorld.vocabulary` (Datasets), written out here so Models need not import the
    /// datasets; a Training test keeps the two identical. Ids follow this order: append-only.
    public static let shapesWords = [
        "a", "small", "large",
        "red", "orange", "yellow", "green", "cyan", "blue", "magenta",
        "circle", "square", "triangle", "diamond", "cross",
        "in", "the", "centre", "at", "top", "left", "right", "bottom",
        "on", "black", "grey", "white", "background",
    ]

    /// The shapes-world tokenizer.
    public static let shapes = Tokenizer(words: shapesWords, maxLength: 16)

    public init(words: [String], maxLength: Int = 16) {
        precondition(maxLength >= 2, "maxLength must leave room for bos and eos")
        precondition(Set(words).count == words.count, "tokenizer words must be distinct")
        self.words = words
        self.maxLength = maxLength
        var ids: [String: Int32] = [:]
        for (i, w) in words.enumerated() { ids[w] = Int32(Self.specialTokens.count + i) }
        self.ids = ids
    }

    /// Words of a caption as the tokenizer sees them: lower-cased, split at anything that is
    /// neither a letter nor a digit (so "3D" stays a word). The same as `Caption.words` on
    /// every caption of the shapes grammar, which has no digits.
    public static func words(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// The distinct words of `caption` the vocabulary lacks, in order of first appearance.
    public func unknownWords(in caption: String) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for w in Self.words(caption) where ids[w] == nil && seen.insert(w).inserted { out.append(w) }
        return out
    }

    /// Number of ids (the text encoder's embedding rows).
    public var vocabularySize: Int { Self.specialTokens.count + words.count }

    /// The id of one (already lower-cased) word, `unk` if unknown.
    public func id(_ word: String) -> Int32 { ids[word] ?? Self.unk }

    /// `maxLength` ids and the matching mask (1 = token, 0 = padding).
    public func encode(_ caption: String) -> (ids: [Int32], mask: [Float]) {
        let body = Self.words(caption).prefix(maxLength - 2).map(id)
        var ids = [Self.bos] + body + [Self.eos]
        let mask = [Float](repeating: 1, count: ids.count) + [Float](repeating: 0, count: maxLength - ids.count)
        ids += [Int32](repeating: Self.pad, count: maxLength - ids.count)
        return (ids, mask)
    }

    /// A batch of captions as row-major [B, maxLength] ids and mask.
    public func encode(batch captions: [String]) -> (ids: [Int32], mask: [Float]) {
        var ids: [Int32] = [], mask: [Float] = []
        ids.reserveCapacity(captions.count * maxLength); mask.reserveCapacity(captions.count * maxLength)
        for c in captions { let e = encode(c); ids += e.ids; mask += e.mask }
        return (ids, mask)
    }

    /// The words of `ids` up to `eos`, without special tokens except `<unk>`; ids out of range
    /// read as `<unk>`.
    public func decode(_ ids: [Int32]) -> String {
        var out: [String] = []
        for id in ids {
            if id == Self.eos { break }
            if id == Self.pad || id == Self.bos { continue }
            let i = Int(id) - Self.specialTokens.count
            out.append(i >= 0 && i < words.count ? words[i] : Self.specialTokens[Int(Self.unk)])
        }
        return out.joined(separator: " ")
    }

    public static func == (a: Tokenizer, b: Tokenizer) -> Bool { a.words == b.words && a.maxLength == b.maxLength }
}
