import Diffusion
import Formats
import NeuralNet

// Range checks for configs read from files or specs. Every config a file holds is checked field
// by field before anything is allocated from it, so a crafted file (maxGroups 0, mlpRatio −1, a
// billion channels) is one error line naming the field, not a SIGFPE or an 18 EB allocation.
// The caps are far above anything these CPUs can train and far below what would overflow.

/// Checks fields under a JSON path prefix ("config.uvit."); each failure names the field.
public struct FieldCheck {
    public let prefix: String
    public init(_ prefix: String = "") { self.prefix = prefix }

    public func nested(_ name: String) -> FieldCheck { FieldCheck(prefix + name + ".") }

    public func fail(_ name: String, _ message: String) -> ModelError {
        ModelError(prefix + name + " " + message)
    }

    public func int(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws {
        if value < range.lowerBound { throw fail(name, "must be ≥ \(range.lowerBound), got \(value)") }
        if value > range.upperBound { throw fail(name, "must be ≤ \(range.upperBound), got \(value)") }
    }

    public func real(_ name: String, _ value: Double, _ range: ClosedRange<Double>) throws {
        guard value.isFinite else { throw fail(name, "must be finite, got \(value)") }
        if value < range.lowerBound { throw fail(name, "must be ≥ \(range.lowerBound), got \(value)") }
        if value > range.upperBound { throw fail(name, "must be ≤ \(range.upperBound), got \(value)") }
    }
}

/// Sizes computed from untrusted fields: products and sums that report overflow instead of
/// trapping (nil = overflow).
public enum CheckedSize {
    public static func product(_ factors: Int...) -> Int? { product(factors) }

    public static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, overflow) = p.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            p = r
        }
        return p
    }

    public static func sum(_ terms: [Int?]) -> Int? {
        var s = 0
        for t in terms {
            guard let t else { return nil }
            let (r, overflow) = s.addingReportingOverflow(t)
            if overflow { return nil }
            s = r
        }
        return s
    }
}

/// Largest network (parameters) a config may describe: 2²⁸ (1 GiB of F32 weights, with
/// gradients and AdamW's moments 4 GiB) — 17× the `base` preset.
public let maxModelParameters = 1 << 28
/// Largest activation a config may ask for per image (elements of one tensor): 2²⁸.
public let maxActivationPerImage = 1 << 28

extension TextEncoderConfig {
    /// Every field in range; `check` names them ("config.text.width").
    public func validate(_ check: FieldCheck) throws {
        try check.int("width", width, 1...16_384)
        try check.int("heads", heads, 1...width)
        guard width % heads == 0 else { throw check.fail("width", "\(width) does not split into \(heads) heads") }
        try check.int("layers", layers, 0...1024)
        try check.int("mlpRatio", mlpRatio, 1...64)
        try check.int("maxLength", maxLength, 2...4096)
        try check.int("vocabularySize", vocabularySize, 4...1_000_000)
        guard let n = parameterCount, n <= maxModelParameters else {
            throw check.fail("width", "\(width) with \(layers) layers, mlpRatio \(mlpRatio) and \(vocabularySize) ids exceeds the \(maxModelParameters)-parameter limit")
        }
    }

    /// Parameters of the encoder this config builds (`TextEncoder`), nil on overflow.
    public var parameterCount: Int? {
        let w = width, h = mlpRatio * width
        let block = CheckedSize.sum([4 * w, CheckedSize.product(w, 3 * w), 3 * w, CheckedSize.product(w, w), w,
                                     CheckedSize.product(w, h), h, CheckedSize.product(h, w), w])
        return CheckedSize.sum([CheckedSize.product(vocabularySize, w), CheckedSize.product(maxLength, w),
                                block.flatMap { CheckedSize.product(layers, $0) }, 2 * w])
    }
}

/// Parameters of a `TransformerBlock` of width d (MLP d → r·d → d), with cross-attention to a
/// context of width `context` when given; nil on overflow.
func transformerBlockParameters(width d: Int, mlpRatio r: Int, context: Int?) -> Int? {
    let h = r * d
    var terms: [Int?] = [2 * d, CheckedSize.product(d, 3 * d), 3 * d, CheckedSize.product(d, d), d, 2 * d,
                         CheckedSize.product(d, h), h, CheckedSize.product(h, d), d]
    if let c = context {
        terms += [2 * d, CheckedSize.product(d, d), d, CheckedSize.product(c, 2 * d), 2 * d, CheckedSize.product(d, d), d]
    }
    return CheckedSize.sum(terms)
}

/// Parameters of a `ResBlock` from `i` to `o` channels conditioned on an embedding of width e.
func resBlockParameters(_ i: Int, _ o: Int, embedding e: Int) -> Int? {
    CheckedSize.sum([2 * i, CheckedSize.product(9, i, o), o, CheckedSize.product(e, 2 * o), 2 * o, 2 * o,
                     CheckedSize.product(9, o, o), o, i == o ? 0 : CheckedSize.product(i, o), i == o ? 0 : o])
}

extension UViTConfig {
    /// Every field in range; `contextWidth` is the text encoder's width (cross-attention).
    public func validate(_ check: FieldCheck, contextWidth: Int) throws {
        try check.int("channels.count", channels.count, 1...8)
        for (l, c) in channels.enumerated() { try check.int("channels[\(l)]", c, 1...8192) }
        guard resBlocks.count == channels.count else {
            throw check.fail("resBlocks", "needs one entry per level (\(channels.count) levels, \(resBlocks.count) entries)")
        }
        for (l, n) in resBlocks.enumerated() { try check.int("resBlocks[\(l)]", n, 1...64) }
        try check.int("resolution", resolution, 1...4096)
        guard resolution % (1 << levels) == 0 else {
            throw check.fail("resolution", "\(resolution) is not divisible by 2^\(levels) (one halving per level)")
        }
        try check.int("transformerWidth", transformerWidth, 1...16_384)
        try check.int("heads", heads, 1...transformerWidth)
        guard transformerWidth % heads == 0 else {
            throw check.fail("transformerWidth", "\(transformerWidth) does not split into \(heads) heads")
        }
        try check.int("transformerBlocks", transformerBlocks, 0...1024)
        try check.int("mlpRatio", mlpRatio, 1...64)
        try check.int("embeddingWidth", embeddingWidth, 1...65_536)
        try check.int("noiseFeatures", noiseFeatures, 2...65_536)
        guard noiseFeatures % 2 == 0 else { throw check.fail("noiseFeatures", "must be even, got \(noiseFeatures)") }
        try check.int("maxGroups", maxGroups, 1...65_536)
        guard dropout >= 0, dropout < 1 else { throw check.fail("dropout", "must be in [0, 1), got \(dropout)") }
        try check.int("dropoutFromLevel", dropoutFromLevel, 0...levels)
        // Attention over the token grid holds tokens² scores per head and image.
        guard tokenGrid <= 64 else {
            throw check.fail("resolution", "\(resolution) gives a \(tokenGrid)×\(tokenGrid) token grid after \(levels) halvings; attention allows at most 64×64")
        }
        for l in 0..<levels {
            let side = resolution >> l, below = l + 1 < levels ? channels[l + 1] : channels[l]
            guard let n = CheckedSize.product(side, side, channels[l] + below), n <= maxActivationPerImage else {
                throw check.fail("channels[\(l)]", "\(channels[l]) at \(side)×\(side) exceeds the \(maxActivationPerImage)-element activation limit")
            }
        }
        guard let n = parameterCount(contextWidth: contextWidth), n <= maxModelParameters else {
            throw check.fail("channels", "\(channels) with transformer width \(transformerWidth) × \(transformerBlocks) blocks exceeds the \(maxModelParameters)-parameter limit")
        }
    }

    /// Parameters of the `UViT` this config builds, nil on overflow.
    public func parameterCount(contextWidth ct: Int) -> Int? {
        let c = channels, e = embeddingWidth, d = transformerWidth, last = c[levels - 1]
        var terms: [Int?] = [CheckedSize.product(27, c[0]), c[0]]
        var inC = c[0]
        for l in 0..<levels {
            for _ in 0..<resBlocks[l] { terms.append(resBlockParameters(inC, c[l], embedding: e)); inC = c[l] }
        }
        terms += [CheckedSize.product(last, d), d, CheckedSize.product(tokenGrid, tokenGrid, d)]
        let block = transformerBlockParameters(width: d, mlpRatio: mlpRatio, context: ct)
        terms.append(block.flatMap { CheckedSize.product(transformerBlocks, $0) })
        terms += [2 * d, CheckedSize.product(d, last), last]
        var below = last
        for l in (0..<levels).reversed() {
            for i in 0..<resBlocks[l] { terms.append(resBlockParameters(i == 0 ? below + c[l] : c[l], c[l], embedding: e)) }
            below = c[l]
        }
        terms += [2 * c[0], CheckedSize.product(27, c[0]), 3]
        return CheckedSize.sum(terms)
    }
}

extension CosineSchedule {
    public func validate(_ check: FieldCheck) throws {
        try check.real("shift", shift, -100...100)
        try check.real("logSNRMin", logSNRMin, -1000...1000)
        try check.real("logSNRMax", logSNRMax, -1000...1000)
        guard logSNRMin < logSNRMax else {
            throw check.fail("logSNRMin", "\(logSNRMin) must be below logSNRMax \(logSNRMax)")
        }
    }
}

/// One line for a JSONDecoder failure: the coding path and what was wrong.
public func decodingProblem(_ error: Error) -> String {
    func path(_ keys: [CodingKey]) -> String {
        let text = keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        return String(text.drop(while: { $0 == "." }))
    }
    let text: String
    switch error as? DecodingError {
    case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?, .dataCorrupted(let c)?:
        text = (c.codingPath.isEmpty ? "" : path(c.codingPath) + ": ") + c.debugDescription
    case .keyNotFound(let key, let c)?:
        text = "missing field " + path(c.codingPath + [key])
    default:
        text = "\(error)"
    }
    return printableField(text)
}
