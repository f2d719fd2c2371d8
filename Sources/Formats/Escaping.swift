// The string escapers (JSON literals, HTML/SVG text, terminal output, one-line error fields)
// share this loop; each keeps its own table, since each target forbids different characters.

public enum Escaping {
    /// `s` with every scalar for which `replacement` returns a text replaced by that text; after
    /// `limit` scalars the rest is cut and "…" marks the cut.
    public static func map(_ s: String, limit: Int = .max, _ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var n = 0
        for u in s.unicodeScalars {
            if n == limit { out += "…"; break }
            if let r = replacement(u) { out += r } else { out.unicodeScalars.append(u) }
            n += 1
        }
        return out
    }
}

/// `s` fit for one line of an error message: control characters escaped, at most `limit`
/// characters (names and values from a crafted file or an argument can hold newlines or megabytes).
public func printableField(_ s: String, limit: Int = 200) -> String {
    Escaping.map(s, limit: limit) { u in
        switch u.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029: return "\\u{" + String(u.value, radix: 16) + "}"
        default: return nil
        }
    }
}
