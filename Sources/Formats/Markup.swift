import Foundation

/// Escaping shared by the SVG and HTML writers (their numbers: `NumberText`).
public enum Markup {
    /// Text safe inside XML/HTML element content and quoted attribute values.
    public static func escape(_ s: String) -> String {
        Escaping.map(s) { c in
            switch c {
            case "&": return "&amp;"
            case "<": return "&lt;"
            case ">": return "&gt;"
            case "\"": return "&quot;"
            case "'": return "&#39;"
            // Control characters other than tab/newline are not allowed in XML 1.0 at all.
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}": return "\u{FFFD}"
            default: return nil
            }
        }
    }
}
