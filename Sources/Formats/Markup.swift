import Foundation

/// Escaping shared by the SVG and HTML writers (their numbers: `NumberText`).
public enum Markup {
    /// The opening of a standalone HTML page up to its <h1>: doctype, title, the shared body
    /// style plus `style` (the page's own rules, one per line), and the heading — both escaped.
    public static func pageStart(title: String, style: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <title>\(escape(title))</title>
        <style>
        body { font-family: sans-serif; margin: 2em; color: #222; }
        \(style)
        </style>
        </head>
        <body>
        <h1>\(escape(title))</h1>

        """
    }

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
