import XCTest
@testable import Formats

final class InflateTests: XCTestCase {
    private func inflate(_ base64: String, size: Int) throws -> [UInt8] {
        let bytes = [UInt8](Data(base64Encoded: base64)!)
        return try Inflate.decompress(bytes, range: 0..<bytes.count, expectedSize: size)
    }

    // Raw DEFLATE streams made by zlib (level 9, wbits −15), one per block type.
    func testFixedHuffmanBlock() throws {
        let text = "hello hello hello hello, multistep consistency!"
        XCTAssertEqual(try inflate("y0jNyclXyEAndRRyS3NKMotLUgsUkvPzikGsvORKRQA=", size: text.utf8.count), Array(text.utf8))
    }

    func testDynamicHuffmanBlockWithOverlappingMatches() throws {
        var parts: [String] = []
        for c in ["red", "green", "blue"] { for s in ["circle", "square", "triangle"] { for b in ["white", "black"] {
            parts.append("a \(c) \(s) on a \(b) background")
        } } }
        let text = Array(parts.joined(separator: " ").utf8)
        XCTAssertEqual(text.count, 659)
        let stream = "hc/RDoAgCIXhV+HVUJm5HC3S9fp5WSJxq9/+cRCEEsQisRIcDAj3VhpBwLhnOTqn8TSTUMevJtfZUf4rb2JUmhTk7FzzRYtSFiL2dmlklpxtGpkld9+KLWqhdvIGKmN1nHnKWB133ELNrQc="
        XCTAssertEqual(try inflate(stream, size: text.count), text)
    }

    func testStoredBlock() throws {
        XCTAssertEqual(try inflate("ARAA7/9zdG9yZWQgYnl0ZXMgAAEC", size: 16), Array("stored bytes ".utf8) + [0, 1, 2])
    }

    func testCorruptStreamsFail() {
        // Truncated, wrong recorded size, block type 3, stored length check.
        XCTAssertThrowsError(try inflate("y0jNyclXyEAndRRyS3NK", size: 47))
        XCTAssertThrowsError(try inflate("y0jNyclXyEAndRRyS3NKMotLUgsUkvPzikGsvORKRQA=", size: 46))
        XCTAssertThrowsError(try Inflate.decompress([0x07, 0, 0], range: 0..<3, expectedSize: 0))
        XCTAssertThrowsError(try Inflate.decompress([0x01, 0x10, 0x00, 0x00, 0x00], range: 0..<5, expectedSize: 16))
    }

    /// Many sizes and contents through zlib itself: random bytes (stored blocks), text-like
    /// data (dynamic blocks), long runs (overlapping matches), several blocks per stream.
    func testAgreesWithZlibOnGeneratedData() throws {
        let out = try Python.run("""
        import zlib, random, base64
        random.seed(5)
        cases = [bytes(random.getrandbits(8) for _ in range(70000)),
                 b''.join(random.choice([b'abc', b'the ', b'xyzzy', b'\\x00' * 40]) for _ in range(60000)),
                 b'a' * 100000, b'', bytes(range(256)) * 300]
        for level in (1, 6, 9):
            for data in cases:
                c = zlib.compressobj(level, zlib.DEFLATED, -15)
                z = c.compress(data) + c.flush()
                print(base64.b64encode(z).decode(), base64.b64encode(data).decode())
        """, modules: ["zlib"])
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, 15)
        for line in lines {
            let f = line.split(separator: " ", omittingEmptySubsequences: false)
            let z = [UInt8](Data(base64Encoded: String(f[0]))!), data = [UInt8](Data(base64Encoded: String(f[1]))!)
            XCTAssertEqual(try Inflate.decompress(z, range: 0..<z.count, expectedSize: data.count), data)
        }
    }

    func testCRC32KnownValues() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)   // the standard check value
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
    }
}
