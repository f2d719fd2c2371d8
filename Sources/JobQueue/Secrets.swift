import Foundation

/// Keeps database passwords out of logs and error messages. libpq echoes parts of a malformed
/// connection string in its errors, and people paste URLs with passwords into DATABASE_URL;
/// every message mscm prints about a connection goes through `redact`.
public enum Secrets {
    /// Passwords found in a libpq connection string (URL `user:pass@` or key/value
    /// `password=…`) and in PGPASSWORD.
    public static func passwords(in conninfo: String) -> [String] {
        var found: [String] = []
        if let env = ProcessInfo.processInfo.environment["PGPASSWORD"], !env.isEmpty { found.append(env) }
        if let schemeEnd = conninfo.range(of: "://") {
            let rest = conninfo[schemeEnd.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                if let colon = userinfo.firstIndex(of: ":") {
                    let raw = String(userinfo[userinfo.index(after: colon)...])
                    if !raw.isEmpty { found.append(raw) }
                    if let decoded = raw.removingPercentEncoding, decoded != raw, !decoded.isEmpty { found.append(decoded) }
                }
            }
            // password=… may also sit in the URL's query.
            if let q = rest.firstIndex(of: "?") {
                for pair in rest[rest.index(after: q)...].split(separator: "&") where pair.hasPrefix("password=") {
                    let raw = String(pair.dropFirst("password=".count))
                    if !raw.isEmpty { found.append(raw) }
                    if let decoded = raw.removingPercentEncoding, decoded != raw, !decoded.isEmpty { found.append(decoded) }
                }
            }
        } else if let r = conninfo.range(of: #"password\s*=\s*('([^'\\]|\\.)*'|\S+)"#, options: .regularExpression) {
            var v = String(conninfo[r].drop { $0 != "=" }.dropFirst()).trimmingCharacters(in: .whitespaces)
            if v.hasPrefix("'") && v.hasSuffix("'") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            if !v.isEmpty { found.append(v) }
        }
        return found
    }

    /// `message` with every password of `conninfo` replaced by `***`, and any URL userinfo
    /// password or `password=` value masked whatever it is.
    public static func redact(_ message: String, conninfo: String = PGConnection.defaultConnectionString) -> String {
        var s = message
        for p in passwords(in: conninfo).sorted(by: { $0.count > $1.count }) {
            s = s.replacingOccurrences(of: p, with: "***")
        }
        s = s.replacingOccurrences(of: #"(://[^:/@\s]*):[^@\s/]*@"#, with: "$1:***@", options: .regularExpression)
        s = s.replacingOccurrences(of: #"password\s*=\s*('([^'\\]|\\.)*'|[^\s&"]+)"#, with: "password=***", options: .regularExpression)
        return s
    }

    /// A connection string fit to print: `postgresql://user:***@host/db`.
    public static func displayable(_ conninfo: String) -> String {
        conninfo.isEmpty ? "(libpq defaults: PGHOST, PGPORT, PGDATABASE…)" : redact(conninfo, conninfo: conninfo)
    }
}
