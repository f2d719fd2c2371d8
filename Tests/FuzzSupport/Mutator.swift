import Foundation

// A seeded mutation fuzzer shared by the fuzz tests of every reader (safetensors, model
// configs, PNG, both JSON parsers, flags). Each case mutates one valid seed input with one to
// four stacked edits — bit flips, byte sets, inserts, deletes, truncation, duplication, splices
// with another seed, and "interesting" integers written over header bytes or JSON numbers —
// so most cases stay close enough to valid to reach the deep checks. Everything follows from
// the seed, so a failure is reproduced by its (seed, case) pair.

/// SplitMix64: tiny, fast, and fully determined by its seed.
public struct FuzzRNG {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n ≥ 1).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

public enum Fuzz {
    /// Cases per fuzz test: `normal` in the test run, or `MSCM_FUZZ_CASES` (ops/fuzz) for a long run.
    public static func cases(_ normal: Int) -> Int {
        if let s = ProcessInfo.processInfo.environment["MSCM_FUZZ_CASES"], let n = Int(s), n > 0 { return n }
        return normal
    }

    /// The run's seed: `MSCM_FUZZ_SEED`, else fixed, so the normal test run is deterministic.
    public static var seed: UInt64 {
        ProcessInfo.processInfo.environment["MSCM_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x6D73_636D_667A_7A31
    }

    /// Integers that break size arithmetic: zero, ±1, sign and width boundaries.
    public static let interestingIntegers: [UInt64] = [
        0, 1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000,
        0xFFFF_FFFF, 0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF,
        0xFFFF_FFFF_FFFF_FFFE, 100_000_000, 100_000_001, 1 << 40, 1 << 62,
    ]

    /// The same as JSON number texts, plus floats JSON allows and Swift's Int does not.
    public static let interestingNumberTexts: [String] = [
        "0", "-0", "1", "-1", "2", "3", "-2147483648", "2147483647", "2147483648", "4294967296", "9007199254740993",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "1e308", "1e309", "-1e309", "1e-400", "0.5", "-0.5",
        "1.0", "1e2", "1E+2", "123456789012345678901234567890", "00", "01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity",
    ]

    /// Bytes that open, close or break JSON structure.
    static let structural: [String] = ["[", "]", "{", "}", "\"", ",", ":", "\\", "\\u", "\\ud800", "\n", "\0", "\u{FF}", "null", "true", "[[[[[[[[", "{\"a\":"]
}

public struct Mutator {
    public var rng: FuzzRNG
    public init(seed: UInt64) { rng = FuzzRNG(seed: seed) }

    /// One mutant of `input`; `corpus` supplies splice material.
    public mutating func mutate(_ input: [UInt8], corpus: [[UInt8]] = []) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + rng.below(4)) { edit(&b, corpus: corpus) }
        return b
    }

    mutating func edit(_ b: inout [UInt8], corpus: [[UInt8]]) {
        switch rng.below(11) {
        case 0 where !b.isEmpty:   // flip one bit
            b[rng.below(b.count)] ^= UInt8(1 << rng.below(8))
        case 1 where !b.isEmpty:   // set one byte
            b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 2:                    // insert random bytes
            let n = 1 + rng.below(8)
            b.insert(contentsOf: (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: rng.below(b.count + 1))
        case 3 where !b.isEmpty:   // delete a range
            let at = rng.below(b.count), n = 1 + rng.below(min(16, b.count - at))
            b.removeSubrange(at..<(at + n))
        case 4 where !b.isEmpty:   // truncate
            b.removeSubrange(rng.below(b.count)...)
        case 5 where !b.isEmpty:   // duplicate a range in place
            let at = rng.below(b.count), n = 1 + rng.below(min(64, b.count - at))
            b.insert(contentsOf: b[at..<(at + n)], at: rng.below(b.count + 1))
        case 6 where !corpus.isEmpty:   // splice: our head with another seed's tail
            let other = rng.pick(corpus)
            guard !other.isEmpty else { return }
            b = Array(b.prefix(rng.below(b.count + 1))) + other[rng.below(other.count)...]
        case 7 where b.count >= 8:   // an interesting integer over header bytes, little- or big-endian
            let v = rng.pick(Fuzz.interestingIntegers), width = rng.pick([1, 2, 4, 8])
            let at = rng.chance(0.5) ? rng.below(min(b.count, 64) - width + 1) : rng.below(b.count - width + 1)
            let bigEndian = rng.chance(0.5)
            for k in 0..<width {
                let shift = UInt64(8 * (bigEndian ? width - 1 - k : k))
                b[at + k] = UInt8(truncatingIfNeeded: v >> shift)
            }
        case 8:   // an interesting number over a run of digits (JSON numbers, decimal fields)
            let runs = digitRuns(b)
            let text = Array(rng.pick(Fuzz.interestingNumberTexts).utf8)
            if runs.isEmpty { b.insert(contentsOf: text, at: rng.below(b.count + 1)); return }
            let r = rng.pick(runs)
            b.replaceSubrange(r, with: text)
        case 9:   // structural JSON bytes
            b.insert(contentsOf: Array(rng.pick(Fuzz.structural).utf8), at: rng.below(b.count + 1))
        default:   // deep nesting, which a recursive parser must bound
            let open = rng.chance(0.5) ? UInt8(ascii: "[") : UInt8(ascii: "{")
            let n = rng.pick([10, 100, 1000, 100_000])
            b.insert(contentsOf: [UInt8](repeating: open, count: n), at: rng.below(b.count + 1))
        }
    }

    /// Ranges of ASCII digits (with a leading '-').
    func digitRuns(_ b: [UInt8]) -> [Range<Int>] {
        var runs: [Range<Int>] = [], i = 0
        while i < b.count {
            if (0x30...0x39).contains(b[i]) {
                var start = i
                if start > 0, b[start - 1] == UInt8(ascii: "-") { start -= 1 }
                while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
                runs.append(start..<i)
            } else { i += 1 }
        }
        return runs
    }
}

/// Runs `cases` fuzz cases and checks each ends in a value or one error line. `body` returns
/// nil for a value, or the error it threw. Stops reporting after a few failures.
public func fuzzCases(_ cases: Int, _ body: (Int) -> Error?, fail: (String) -> Void) -> (values: Int, errors: Int) {
    var values = 0, errors = 0, failures = 0
    for k in 0..<cases {
        guard let e = body(k) else { values += 1; continue }
        errors += 1
        let text = "\(e)"
        if text.isEmpty || text.contains(where: { $0.isNewline }) {
            failures += 1
            if failures <= 5 { fail("case \(k) (seed \(Fuzz.seed)): error is not one line: \(text.debugDescription.prefix(400))") }
        }
    }
    print("fuzz: \(cases) cases (seed \(Fuzz.seed)): \(values) values, \(errors) one-line errors")
    return (values, errors)
}

/// CRC-32 of PNG chunks (and zip), so a mutant can carry a valid CRC and reach the decoder.
public func fuzzCRC32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for x in bytes {
        crc ^= UInt32(x)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}
