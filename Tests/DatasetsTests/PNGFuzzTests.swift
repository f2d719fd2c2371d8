import Foundation
import FuzzSupport
import XCTest
@testable import Datasets

/// The PNG reader and the image-folder reader on mutated input: a picture or one `PNGError`
/// (or `DatasetError`) line — never a trap, never an allocation the file cannot back.
final class PNGFuzzTests: XCTestCase {
    /// Valid PNGs of every colour type, from libpng and from the independent test encoder.
    func seeds() throws -> [[UInt8]] {
        let rgb: [[UInt8]] = [[255, 0, 0, 0, 255, 0, 0, 0, 255], [10, 20, 30, 200, 100, 50, 7, 7, 7]]
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
        let picture = RGBImage(width: 5, height: 4, pixels: (0..<60).map { UInt8($0 * 4) })
        return [
            Array(try PNGCodec.encode(picture)),
            Array(PNGTestEncoder.png(width: 3, height: 2, bitDepth: 8, colourType: .rgb, rows: rgb)),
            Array(PNGTestEncoder.png(width: 3, height: 2, bitDepth: 8, colourType: .palette, rows: [[0, 1, 2], [2, 1, 0]],
                                     palette: palette, transparency: [255, 128])),
            Array(PNGTestEncoder.png(width: 2, height: 2, bitDepth: 16, colourType: .grayAlpha, rows: [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]])),
            Array(PNGTestEncoder.png(width: 4, height: 1, bitDepth: 1, colourType: .gray, rows: [[0b1010_0000]])),
        ]
    }

    /// Rewrites the IHDR fields (width, height, depth, colour type) and fixes its CRC, so the
    /// mutant reaches libpng's size and format handling instead of stopping at the CRC.
    func mutateHeader(_ png: [UInt8], _ m: inout Mutator) -> [UInt8] {
        guard png.count >= 33 else { return png }
        var b = png
        switch m.rng.below(4) {
        case 0, 1:   // width or height
            let v = UInt32(truncatingIfNeeded: m.rng.pick(Fuzz.interestingIntegers))
            let at = m.rng.chance(0.5) ? 16 : 20
            for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * (3 - UInt32(k)))) }
        case 2: b[24] = m.rng.pick([0, 1, 2, 3, 4, 5, 8, 16, 255])   // bit depth
        default: b[25] = m.rng.pick([0, 1, 2, 3, 4, 6, 7, 255])     // colour type
        }
        let crc = fuzzCRC32(b[12..<29])
        for k in 0..<4 { b[29 + k] = UInt8(truncatingIfNeeded: crc >> (8 * (3 - UInt32(k)))) }
        return b
    }

    func testMutatedPNGsDecodeOrFailInOneLine() throws {
        let corpus = try seeds()
        var m = Mutator(seed: Fuzz.seed ^ 0x504E)
        let result = fuzzCases(Fuzz.cases(1500), { _ in
            let seed = m.rng.pick(corpus)
            var bytes = m.rng.chance(0.4) ? mutateHeader(seed, &m) : m.mutate(seed, corpus: corpus)
            if m.rng.chance(0.2) { bytes = m.mutate(bytes, corpus: corpus) }
            do {
                let image = try PNGCodec.decode(Data(bytes), name: "case.png")
                XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                return nil
            } catch let e as PNGError {
                return e
            } catch {
                XCTFail("not a PNGError: \(error)")
                return error
            }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0) }   // some mutants stay valid
    }

    /// A 45-byte PNG declaring 8192×8192 pixels (within the pixel cap) used to make the reader
    /// allocate 256 MiB before libpng found the data missing; now the declared size must fit
    /// what the file's bytes can hold at deflate's best ratio.
    func testDeclaredSizeMustFitTheFileBeforeAllocation() throws {
        var png = try seeds()[1]
        png[16...19] = [0, 0, 0x20, 0]; png[20...23] = [0, 0, 0x20, 0]
        let crc = fuzzCRC32(png[12..<29])
        for k in 0..<4 { png[29 + k] = UInt8(truncatingIfNeeded: crc >> (8 * (3 - UInt32(k)))) }
        XCTAssertThrowsError(try PNGCodec.decode(Data(png), name: "big.png")) {
            XCTAssertTrue("\($0)".hasPrefix("big.png: PNG of 8192×8192 pixels cannot be held by its \(png.count) bytes"), "\($0)")
        }
        // Over the pixel cap.
        png[16...19] = [0, 0x01, 0, 0]
        let crc2 = fuzzCRC32(png[12..<29])
        for k in 0..<4 { png[29 + k] = UInt8(truncatingIfNeeded: crc2 >> (8 * (3 - UInt32(k)))) }
        XCTAssertThrowsError(try PNGCodec.decode(Data(png), name: "big.png")) { XCTAssertTrue("\($0)".contains("limit"), "\($0)") }
    }

    /// An image folder whose metadata.jsonl and pictures were mutated: a dataset or one line.
    func testMutatedImageFoldersOpenOrFailInOneLine() throws {
        let corpus = try seeds()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mscm-folder-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let metadata = Array("""
        {"file_name": "a.png", "text": "a small red circle in the centre on a black background"}
        {"file_name": "b.png", "text": "a large blue square at the top left on a white background", "extra": [1, 2.5]}

        """.utf8)
        var m = Mutator(seed: Fuzz.seed ^ 0x4946)
        let result = fuzzCases(Fuzz.cases(200), { _ in
            do {
                let meta = m.rng.chance(0.5) ? m.mutate(metadata) : metadata
                try Data(meta).write(to: dir.appendingPathComponent("metadata.jsonl"))
                try Data(m.mutate(m.rng.pick(corpus), corpus: corpus)).write(to: dir.appendingPathComponent("a.png"))
                try Data(m.rng.pick(corpus)).write(to: dir.appendingPathComponent("b.png"))
                let d = try ImageFolderDataset(directory: dir, resolution: 8, seed: 0, skipInvalid: m.rng.chance(0.5))
                XCTAssertFalse(d.items.isEmpty)
                return nil
            } catch { return error }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0) }   // some mutants stay valid
    }
}
