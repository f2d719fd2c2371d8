import Foundation
import Tensors
import XCTest
@testable import Datasets

final class PNGCodecTests: XCTestCase {
    func randomImage(_ w: Int, _ h: Int, seed: UInt64) -> RGBImage {
        let rng = CounterRNG(seed: seed)
        return RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { UInt8(rng.integer(below: 256, stream: 1, index: UInt64($0))) })
    }

    func testRoundTripIsBitExact() throws {
        for (w, h) in [(1, 1), (7, 5), (16, 16), (64, 64), (3, 100)] {
            let image = randomImage(w, h, seed: UInt64(w * 1000 + h))
            let decoded = try PNGCodec.decode(try PNGCodec.encode(image))
            XCTAssertEqual(decoded, image, "\(w)×\(h)")
        }
    }

    func testWriteAndReadFile() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("picture.png")
        let image = randomImage(20, 12, seed: 3)
        try PNGCodec.write(image, to: url)
        XCTAssertEqual(try PNGCodec.read(url), image)
        // Output is 8-bit RGB (colour type 2): IHDR bytes 24 and 25.
        let bytes = [UInt8](try Data(contentsOf: url))
        XCTAssertEqual(Array(bytes[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(bytes[24], 8)
        XCTAssertEqual(bytes[25], 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["picture.png"], "no temporary files left")
    }

    func testReadsGrayRGBAndPaletteFilesMadeWithoutLibpng() throws {
        // 3×2 pictures whose expected RGB is known exactly.
        let rgb: [[UInt8]] = [[255, 0, 0, 0, 255, 0, 0, 0, 255], [10, 20, 30, 200, 100, 50, 7, 7, 7]]
        let expectRGB = RGBImage(width: 3, height: 2, pixels: rgb.flatMap { $0 })
        XCTAssertEqual(try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 2, bitDepth: 8, colourType: .rgb, rows: rgb)), expectRGB)

        let gray: [[UInt8]] = [[0, 128, 255], [1, 2, 254]]
        let expectGray = RGBImage(width: 3, height: 2, pixels: gray.flatMap { $0 }.flatMap { [$0, $0, $0] })
        XCTAssertEqual(try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 2, bitDepth: 8, colourType: .gray, rows: gray)), expectGray)

        // Opaque alpha leaves colours as they are.
        let rgba: [[UInt8]] = rgb.map { row in stride(from: 0, to: row.count, by: 3).flatMap { i -> [UInt8] in Array(row[i..<(i + 3)]) + [255] } }
        XCTAssertEqual(try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 2, bitDepth: 8, colourType: .rgba, rows: rgba)), expectRGB)
        let ga: [[UInt8]] = gray.map { row in row.flatMap { v -> [UInt8] in [v, 255] } }
        XCTAssertEqual(try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 2, bitDepth: 8, colourType: .grayAlpha, rows: ga)), expectGray)

        // Palette, 8-bit and 2-bit indices (2-bit rows pack four pixels a byte, first pixel high).
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]
        let indices: [[UInt8]] = [[0, 1, 2], [3, 2, 1]]
        let expectPal = RGBImage(width: 3, height: 2, pixels: indices.flatMap { $0 }.flatMap { [palette[Int($0)].0, palette[Int($0)].1, palette[Int($0)].2] })
        XCTAssertEqual(try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 2, bitDepth: 8, colourType: .palette, rows: indices, palette: palette)), expectPal)
        let packed = indices.map { r in [r[0] << 6 | r[1] << 4 | r[2] << 2] }
        XCTAssertEqual(try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 2, bitDepth: 2, colourType: .palette, rows: packed, palette: palette)), expectPal)
    }

    func testSixteenBitSamplesConvertToEightBit() throws {
        // v·257 is the exact 16-bit form of the 8-bit value v (sRGB assumed without gAMA).
        let values: [UInt8] = [0, 1, 64, 127, 128, 200, 254, 255, 33]
        let rows = [values.flatMap { [$0, $0] }]  // big-endian v·257 = bytes (v, v)
        let image = try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 1, bitDepth: 16, colourType: .rgb, rows: rows))
        XCTAssertEqual(image.pixels, values)
        let gray = try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 1, bitDepth: 16, colourType: .gray, rows: [[0, 0, 128, 128, 255, 255]]))
        XCTAssertEqual(gray.pixels, [0, 0, 0, 128, 128, 128, 255, 255, 255])
    }

    func testAlphaIsCompositedOverWhite() throws {
        // (c·a + 255·(255 − a)) / 255, rounded: computed here by hand.
        let row: [UInt8] = [200, 100, 0, 0, /**/ 200, 100, 0, 255, /**/ 200, 100, 0, 128]
        let image = try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 1, bitDepth: 8, colourType: .rgba, rows: [row]))
        XCTAssertEqual(image.pixels, [255, 255, 255, 200, 100, 0, 227, 177, 127])
        // Palette transparency (tRNS) takes the same path.
        let pal = try PNGCodec.decode(PNGTestEncoder.png(width: 2, height: 1, bitDepth: 8, colourType: .palette, rows: [[0, 1]],
                                                         palette: [(0, 0, 0), (0, 0, 0)], transparency: [0, 255]))
        XCTAssertEqual(pal.pixels, [255, 255, 255, 0, 0, 0])
    }

    func testTruncatedFilesAreRejectedWithTheirName() throws {
        let full = try PNGCodec.encode(randomImage(16, 16, seed: 9))
        // Every cut that loses image data (the last 12 bytes are the empty IEND chunk).
        for length in stride(from: 0, to: full.count - 12, by: 1) {
            XCTAssertThrowsError(try PNGCodec.decode(full.prefix(length), name: "cut.png"), "length \(length)") { error in
                XCTAssertTrue("\(error)".hasPrefix("cut.png: "), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testCorruptFilesAreRejected() throws {
        let good = [UInt8](try PNGCodec.encode(randomImage(8, 8, seed: 4)))
        XCTAssertThrowsError(try PNGCodec.decode(Data("hello, I am not a PNG at all".utf8), name: "text.png")) { e in
            XCTAssertTrue("\(e)".contains("text.png"), "\(e)")
        }
        XCTAssertThrowsError(try PNGCodec.decode(Data(), name: "empty.png"))
        // A flipped bit in the header or the image data breaks a CRC or the zlib stream.
        let idatAt = good.indices.first { Array(good[$0..<($0 + 4)]) == Array("IDAT".utf8) }!
        for position in [12, 16, 20, 29, idatAt + 4, idatAt + 9, idatAt + 40, good.count - 20] {
            var bad = good
            bad[position] ^= 0x10
            XCTAssertThrowsError(try PNGCodec.decode(Data(bad), name: "flip.png"), "flipped byte \(position)")
        }
        // Bad image data with valid CRCs: a zlib stream that is not deflate.
        var rows = [[UInt8]](repeating: [UInt8](repeating: 7, count: 9), count: 3)
        var png = [UInt8](PNGTestEncoder.png(width: 3, height: 3, bitDepth: 8, colourType: .rgb, rows: rows))
        let idat = png.indices.first { png[$0] == 0x49 && png[$0 + 1] == 0x44 && png[$0 + 2] == 0x41 && png[$0 + 3] == 0x54 }!
        png[idat + 4] = 0x00  // zlib header now invalid; recompute the CRC so only the data is wrong
        let length = Int(png[idat - 4]) << 24 | Int(png[idat - 3]) << 16 | Int(png[idat - 2]) << 8 | Int(png[idat - 1])
        let crc = PNGTestEncoder.be32(PNGTestEncoder.crc32(Array(png[idat..<(idat + 4 + length)])))
        png.replaceSubrange((idat + 4 + length)..<(idat + 8 + length), with: crc)
        XCTAssertThrowsError(try PNGCodec.decode(Data(png), name: "zlib.png"))
        // Too few rows for the height in IHDR.
        rows.removeLast()
        XCTAssertThrowsError(try PNGCodec.decode(PNGTestEncoder.png(width: 3, height: 3, bitDepth: 8, colourType: .rgb, rows: rows), name: "short.png"))
        // A palette image without a palette.
        XCTAssertThrowsError(try PNGCodec.decode(PNGTestEncoder.png(width: 1, height: 1, bitDepth: 8, colourType: .palette, rows: [[0]]), name: "nopal.png"))
    }

    func testHugeDimensionsAreRefusedBeforeAllocating() {
        // A valid header claiming 30000 × 30000 pixels and no real data.
        let png = PNGTestEncoder.png(width: 30000, height: 30000, bitDepth: 8, colourType: .rgb, rows: [[0, 0, 0]])
        XCTAssertThrowsError(try PNGCodec.decode(png, name: "huge.png")) { e in XCTAssertTrue("\(e)".contains("huge.png"), "\(e)") }
    }

    func testMissingFileIsNamed() {
        XCTAssertThrowsError(try PNGCodec.read(URL(fileURLWithPath: "/nonexistent/dir/x.png"))) { e in
            XCTAssertEqual("\(e)", "/nonexistent/dir/x.png: no such file")
        }
    }

    func testEncodeRefusesEmptyImage() {
        XCTAssertThrowsError(try PNGCodec.encode(RGBImage(width: 0, height: 0, pixels: [])))
    }
}

extension XCTestCase {
    /// A fresh directory, removed when the test ends.
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mscm-datasets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
