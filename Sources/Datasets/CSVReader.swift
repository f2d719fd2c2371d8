/// RFC 4180 CSV, as spreadsheets and pandas write it: fields separated by commas, a field in
/// double quotes may hold commas, newlines and `""` (one quote); lines end in LF or CRLF.
enum CSVReader {
    /// One record and the line it starts on (1-based), for error messages.
    struct Record {
        let line: Int
        let fields: [String]
    }

    /// The records of `text`; blank lines are skipped. Errors are `DatasetError`s whose message
    /// starts with `place` and names the line.
    static func records(_ text: String, place: String) throws -> [Record] {
        var out: [Record] = []
        var fields: [String] = [], field = "", quoted = false, afterQuote = false
        var line = 1, start = 1, fieldStarted = false
        func endRecord() {
            if fieldStarted || !fields.isEmpty || !field.isEmpty { fields.append(field); out.append(Record(line: start, fields: fields)) }
            fields = []; field = ""; fieldStarted = false; afterQuote = false
        }
        var chars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { field.unicodeScalars.append("\""); continue }
                        pending = n
                    }
                    quoted = false; afterQuote = true
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case ",":
                fields.append(field); field = ""; fieldStarted = true; afterQuote = false
            case "\r":
                continue
            case "\n":
                endRecord(); line += 1; start = line
            case "\"" where field.isEmpty && !afterQuote:
                quoted = true; fieldStarted = true
            default:
                guard !afterQuote else { throw DatasetError("\(place) line \(line): text after a closing quote (write a quote inside a quoted field as \"\")") }
                if !fieldStarted && fields.isEmpty && field.isEmpty { start = line }
                field.unicodeScalars.append(c); fieldStarted = true
            }
        }
        guard !quoted else { throw DatasetError("\(place) line \(start): a quoted field is never closed") }
        endRecord()
        return out
    }
}
