import Foundation

/// Numbers as people write them, for messages and help.
public enum NumberText {
    /// 0.5 as "0.5", 86400.0 as "86400": integral values without ".0".
    public static func plain(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : "\(d)" }

    /// A label: up to `digits` significant digits, no exponent for ordinary sizes.
    public static func significant(_ v: Double, digits: Int = 4) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        return String(format: "%.\(digits)g", v)
    }

    /// An SVG coordinate: two decimals, without a trailing ".00".
    public static func coordinate(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(format: "%.2f", r)
    }
}

/// Durations on the command line: `90`, `90s`, `10m`, `2h`, `7d`, `1.5h`.
public enum Durations {
    public static func parse(_ s: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var text = s.trimmingCharacters(in: .whitespaces)
        var mult = 1.0
        if let last = text.last, let u = units[last] { mult = u; text.removeLast() }
        guard let v = Double(text), v.isFinite, v >= 0 else { return nil }
        return v * mult
    }

    /// 45s, 10m, 2h, 1d, or mixed like 1h30m.
    public static func format(_ seconds: Double) -> String {
        // Beyond a million years the exact split is noise (and Int(_:) would trap on ∞).
        guard seconds.isFinite, abs(seconds) < 3e13 else { return "\(seconds)s" }
        var s = Int(seconds.rounded())
        if s == 0 { return "0s" }
        var out = ""
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where s >= size {
            out += "\(s / size)\(unit)"
            s %= size
        }
        return out
    }
}
