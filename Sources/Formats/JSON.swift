import Foundation

/// A JSON value: job specs, progress, results and schedule specs (jsonb in the database),
/// safetensors headers, metrics files. The one JSON parser and writer of the project.
///
/// Integers and doubles are kept apart so that `"steps": 16` reads back as an integer and
/// `"lr": 1.0` as a double; `int` accepts a double only when it is integral. Object keys are
/// written sorted, so equal values serialise to equal text. Parsing is strict RFC 8259 and its
/// errors are one line. `parseMembers` keeps a top-level object's members in file order and
/// refuses duplicate keys below it (safetensors must not keep one of two equal names silently).
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    // MARK: reading

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.007e15: return Int(d)
        default: return nil
        }
    }
    public var double: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSON]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { self == .null }

    /// "object", "array", "string", "integer", "number", "boolean" or "null", for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// A copy with `key` set (self must be an object; anything else becomes one).
    public func setting(_ key: String, _ value: JSON) -> JSON {
        var o = object ?? [:]
        o[key] = value
        return .object(o)
    }

    // MARK: writing

    /// Compact text with sorted keys. Non-finite doubles, which JSON cannot hold, become null.
    public var serialized: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if !d.isFinite { out += "null" }
            else {
                out += NumberText.plain(d)
                if d.rounded() == d && abs(d) < 1e15 { out += ".0" }   // reads back as a double
            }
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() { if i > 0 { out += "," }; v.write(into: &out) }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSON.writeString(k, into: &out)
                out += ":"
                o[k]!.write(into: &out)
            }
            out += "}"
        }
    }

    /// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        out += Escaping.map(s) { u in
            switch u {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "\n": return "\\n"
            case "\r": return "\\r"
            case "\t": return "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                return "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: return nil
            }
        }
        out += "\""
    }

    /// Indented text for people (`--json` output), keys sorted.
    public var pretty: String {
        var out = ""
        writePretty(into: &out, indent: "")
        return out
    }

    func writePretty(into out: inout String, indent: String) {
        let inner = indent + "  "
        switch self {
        case .array(let a) where !a.isEmpty:
            out += "[\n"
            for (i, v) in a.enumerated() {
                out += inner
                v.writePretty(into: &out, indent: inner)
                out += i + 1 < a.count ? ",\n" : "\n"
            }
            out += indent + "]"
        case .object(let o) where !o.isEmpty:
            out += "{\n"
            let keys = o.keys.sorted()
            for (i, k) in keys.enumerated() {
                out += inner
                JSON.writeString(k, into: &out)
                out += ": "
                o[k]!.writePretty(into: &out, indent: inner)
                out += i + 1 < keys.count ? ",\n" : "\n"
            }
            out += indent + "}"
        default: write(into: &out)
        }
    }

    // MARK: parsing

    public static func parse(_ text: String) throws -> JSON {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses UTF-8 bytes; of two equal keys in an object the later one is kept.
    public static func parse(bytes: [UInt8]) throws -> JSON {
        var p = Parser(bytes: bytes, rejectDuplicateKeys: false)
        p.skipSpace()
        let v = try p.value(depth: 0)
        try p.end()
        return v
    }

    /// The members of a top-level object in file order, duplicates included (the caller names
    /// them); nil when the value is not an object. A duplicate key in any nested object is a
    /// parse error.
    public static func parseMembers(bytes: [UInt8]) throws -> [(key: String, value: JSON)]? {
        var p = Parser(bytes: bytes, rejectDuplicateKeys: true)
        p.skipSpace()
        guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "{") else {
            _ = try p.value(depth: 0)
            try p.end()
            return nil
        }
        let members = try p.members(depth: 0)
        try p.end()
        return members
    }

    struct Parser {
        let bytes: [UInt8]
        let rejectDuplicateKeys: Bool
        var i = 0

        mutating func end() throws {
            skipSpace()
            guard i == bytes.count else { throw error("unexpected text after the value") }
        }

        func error(_ what: String) -> ParseError {
            ParseError(description: "invalid JSON at byte \(i): \(what)")
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func literal(_ word: String, _ v: JSON) throws -> JSON {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw error("expected \(word)") }
            i += w.count
            return v
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < 256 else { throw error("nested too deeply") }
            guard i < bytes.count else { throw error("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                i += 1; skipSpace()
                var a: [JSON] = []
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    skipSpace()
                    a.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw error("unterminated array") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw error("expected , or ] in array")
                }
            case UInt8(ascii: "{"):
                var o: [String: JSON] = [:]
                for (k, v) in try members(depth: depth) {
                    if o.updateValue(v, forKey: k) != nil && rejectDuplicateKeys { throw error("duplicate key \"\(printableField(k))\"") }
                }
                return .object(o)
            default: return try number()
            }
        }

        /// An object's members in order, from its opening brace.
        mutating func members(depth: Int) throws -> [(key: String, value: JSON)] {
            i += 1; skipSpace()
            var o: [(key: String, value: JSON)] = []
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return o }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let k = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected : after key") }
                i += 1; skipSpace()
                o.append((k, try value(depth: depth + 1)))
                skipSpace()
                guard i < bytes.count else { throw error("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return o }
                throw error("expected , or } in object")
            }
        }

        mutating func number() throws -> JSON {
            let start = i
            var isInt = true
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            func digits(_ p: inout Parser) -> Int {
                let s = p.i
                while p.i < p.bytes.count, p.bytes[p.i] >= 0x30, p.bytes[p.i] <= 0x39 { p.i += 1 }
                return p.i - s
            }
            let intStart = i
            let n = digits(&self)
            guard n > 0 else { throw error("expected a value") }
            if n > 1 && bytes[intStart] == 0x30 { throw error("leading zero in number") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                isInt = false; i += 1
                guard digits(&self) > 0 else { throw error("expected digits after .") }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                isInt = false; i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits(&self) > 0 else { throw error("expected digits in exponent") }
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if isInt, let v = Int(text) { return .int(v) }
            guard let d = Double(text), d.isFinite else { throw error("number out of range") }
            return .double(d)
        }

        mutating func hex4() throws -> UInt32 {
            // Four hex digits exactly: UInt32(_:radix:) alone would also take "+fff".
            guard i + 4 <= bytes.count, bytes[i..<i + 4].allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) }),
                  let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw error("bad \\u escape")
            }
            i += 4
            return v
        }

        mutating func string() throws -> String {
            i += 1  // opening quote
            var raw: [UInt8] = []
            while true {
                guard i < bytes.count else { throw error("unterminated string") }
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw error("control character in string") }
                if c != UInt8(ascii: "\\") { raw.append(c); continue }
                guard i < bytes.count else { throw error("unterminated escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): raw.append(0x22)
                case UInt8(ascii: "\\"): raw.append(0x5C)
                case UInt8(ascii: "/"): raw.append(0x2F)
                case UInt8(ascii: "b"): raw.append(0x08)
                case UInt8(ascii: "f"): raw.append(0x0C)
                case UInt8(ascii: "n"): raw.append(0x0A)
                case UInt8(ascii: "r"): raw.append(0x0D)
                case UInt8(ascii: "t"): raw.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard i + 2 <= bytes.count, bytes[i] == 0x5C, bytes[i + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    raw.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    // The byte itself may be a newline or not ASCII; the message stays one line.
                    guard (0x21...0x7E).contains(e) else {
                        throw error("bad escape: backslash before byte 0x" + (e < 16 ? "0" : "") + String(e, radix: 16))
                    }
                    throw error("bad escape \\\(Character(Unicode.Scalar(e)))")
                }
            }
            guard let s = String(validating: raw, as: UTF8.self) else { throw error("string is not UTF-8") }
            return s
        }
    }
}

extension JSON: CustomStringConvertible {
    public var description: String { serialized }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral v: Bool) { self = .bool(v) }
    public init(integerLiteral v: Int) { self = .int(v) }
    public init(floatLiteral v: Double) { self = .double(v) }
    public init(stringLiteral v: String) { self = .string(v) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, b in b }))
    }
}

extension JSON {
    /// `nil` becomes JSON null; handy when building progress and result objects.
    public init(_ v: Double?) { self = v.map { .double($0) } ?? .null }
    public init(_ v: Int?) { self = v.map { .int($0) } ?? .null }
    public init(_ v: String?) { self = v.map { .string($0) } ?? .null }
}
