import Foundation

// Text meant for a terminal: names people chose (artifacts, schedules, workers, error texts)
// escaped so they cannot move the cursor or recolour the screen; lines cut to the width.

public enum TerminalText {
    /// `s` with every control character (C0, DEL, C1) and every invisible direction or
    /// zero-width format character written as an escape (`\n`, `\t`, `\r`, `\e`, `\u{202E}`),
    /// so what is printed is exactly what is stored, visibly.
    public static func escaped(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        return Escaping.map(s) { u in
            guard needsEscape(u) else { return nil }
            switch u {
            case "\n": return "\\n"
            case "\t": return "\\t"
            case "\r": return "\\r"
            case "\u{1B}": return "\\e"
            default: return "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            }
        }
    }

    static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0..<0x20, 0x7F...0x9F: return true
        // Bidi overrides/isolates and zero-width characters: they reorder or hide what follows.
        case 0x200B...0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF: return true
        default: return false
        }
    }

    /// The columns a terminal shows `s` in: one per character, two for East Asian wide ones.
    public static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { n, u in
            if u.properties.generalCategory == .nonspacingMark || u.properties.generalCategory == .enclosingMark { return n }
            return n + (isWide(u) ? 2 : 1)
        }
    }

    static func isWide(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
             0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD: return true
        default: return false
        }
    }

    /// `s` cut to at most `columns` terminal columns, ending in "…" when cut.
    public static func fit(_ s: String, _ columns: Int) -> String {
        guard columns > 0 else { return "" }
        if width(s) <= columns { return s }
        var out = "", used = 0
        for ch in s {
            let w = width(String(ch))
            if used + w > columns - 1 { break }
            out.append(ch); used += w
        }
        return out + "…"
    }

    /// The width to fit output to: `$COLUMNS` when set (scripts and tests choose a width),
    /// else the terminal's width when standard output is one, else nil (not a terminal:
    /// whole lines, for pipes and files).
    public static func outputWidth(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        if let c = environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// The candidate closest to `word` by edit distance, if close enough to be a likely typo
    /// (at most a third of the word's length, and at least 1), or one starting with `word`.
    public static func nearest(_ word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.sorted { $0.1 < $1.1 }
        // Two equally near candidates: no guess is better than a coin toss.
        if let best = scored.first, best.1 <= max(1, word.count / 3), best.1 < word.count {
            return scored.count > 1 && scored[1].1 == best.1 ? nil : best.0
        }
        let prefixed = candidates.filter { $0.hasPrefix(word) }
        return word.count >= 2 && prefixed.count == 1 ? prefixed[0] : nil
    }

    /// Levenshtein distance, with a swap of two neighbours counting as one edit.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
