import CLibPQ
import Foundation

// Binary transfer for artifact chunks: a bytea sent as text would be hex (twice the bytes,
// parsed on both sides); these send and receive the raw bytes.

/// A statement parameter: text (like `query`'s) or raw bytes for a bytea.
public enum PGParam {
    case text(String?)
    case bytes(Data)
}

extension PGConnection {
    /// Runs one statement whose parameters may include raw bytes; results come back as text.
    @discardableResult
    public func query(_ sql: String, params: [PGParam]) throws -> PGRows {
        let n = params.count
        var buffers: [UnsafeMutableRawPointer?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        defer { for b in buffers { free(b) } }
        for p in params {
            switch p {
            case .text(nil):
                buffers.append(nil); lengths.append(0); formats.append(0)
            case .text(let s?):
                buffers.append(UnsafeMutableRawPointer(strdup(s))); lengths.append(0); formats.append(0)
            case .bytes(let d):
                let b = malloc(max(d.count, 1))!
                d.withUnsafeBytes { src in if let base = src.baseAddress { memcpy(b, base, d.count) } }
                buffers.append(b); lengths.append(Int32(d.count)); formats.append(1)
            }
        }
        let values = buffers.map { $0.map { UnsafePointer<CChar>($0.assumingMemoryBound(to: CChar.self)) } }
        let result = PQexecParams(conn, sql, Int32(n), nil, values, lengths, formats, 0)
        return try consume(result)
    }

    /// Runs a statement and returns the first column of the first row as raw bytes (binary
    /// result format), or nil when there is no row or the value is NULL.
    public func queryBytes(_ sql: String, _ params: [String?]) throws -> Data? {
        let result: OpaquePointer? = withCStrings(params) { ptrs in
            PQexecParams(conn, sql, Int32(params.count), nil, ptrs, nil, nil, 1)
        }
        guard let r = result else { throw PGError(PGConnection.clean(String(cString: PQerrorMessage(conn)))) }
        defer { PQclear(r) }
        guard PQresultStatus(r) == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PGError(PGConnection.clean(String(cString: PQresultErrorMessage(r))), sqlState: state)
        }
        guard PQntuples(r) > 0, PQnfields(r) > 0, PQgetisnull(r, 0, 0) == 0 else { return nil }
        let len = Int(PQgetlength(r, 0, 0))
        guard let p = PQgetvalue(r, 0, 0) else { return nil }
        return Data(bytes: p, count: len)
    }
}
