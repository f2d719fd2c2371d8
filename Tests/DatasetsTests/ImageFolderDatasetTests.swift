import Foundation
import XCTest
@testable import Datasets

final class ImageFolderDatasetTests: XCTestCase {
    /// A folder with `n` 24×16 PNGs whose pixels encode their index, and a metadata line each.
    func makeFolder(_ n: Int, extraLines: [String] = []) throws -> URL {
        let dir = try temporaryDirectory()
        var lines: [String] = []
        for i in 0..<n {
            try PNGCodec.write(RGBImage(width: 24, height: 16, fill: RGB(UInt8(i), 0, 255)), to: dir.appendingPathComponent("img\(i).png"))
            lines.append("{\"file_name\": \"img\(i).png\", \"text\": \"caption \(i)\", \"other\": 1}")
        }
        try Data((lines + extraLines).joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("metadata.jsonl"))
        return dir
    }

    func testLoadsResizesAndKeepsMetadataOrder() throws {
        let dir = try makeFolder(5)
        let data = try ImageFolderDataset(directory: dir, resolution: 8, seed: 0)
        XCTAssertEqual(data.count, 5)
        XCTAssertEqual(data.items.map { $0.caption }, (0..<5).map { "caption \($0)" })
        for (i, item) in data.items.enumerated() {
            XCTAssertEqual(item.image, RGBImage(width: 8, height: 8, fill: RGB(UInt8(i), 0, 255)))
            XCTAssertNil(item.labels)
        }
        XCTAssertTrue(data.skipped.isEmpty)
    }

    func testEachEpochVisitsEveryItemOnceInASeededOrder() throws {
        let data = try ImageFolderDataset(directory: try makeFolder(7), resolution: 4, seed: 3)
        let epoch0 = (0..<7).map { data.example($0).caption }, epoch1 = (7..<14).map { data.example($0).caption }
        XCTAssertEqual(Set(epoch0).count, 7)
        XCTAssertEqual(Set(epoch1), Set(epoch0))
        XCTAssertNotEqual(epoch0, epoch1, "epochs are reshuffled")
        XCTAssertNotEqual(epoch0, (0..<7).map { "caption \($0)" }, "order is shuffled")
        let same = try ImageFolderDataset(directory: data.directory, resolution: 4, seed: 3)
        XCTAssertEqual((0..<14).map { same.example($0).caption }, epoch0 + epoch1)
        let other = try ImageFolderDataset(directory: data.directory, resolution: 4, seed: 4)
        XCTAssertNotEqual((0..<7).map { other.example($0).caption }, epoch0)
        // A batch across the epoch boundary.
        XCTAssertEqual(data.batch(size: 4, step: 1).captions, Array((epoch0 + epoch1)[4..<8]))
        XCTAssertEqual(data.order(epoch: 2).sorted(), Array(0..<7))
    }

    func assertError(_ dir: URL, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ImageFolderDataset(directory: dir, resolution: 8), file: file, line: line) { e in
            for p in parts { XCTAssertTrue("\(e)".contains(p), "'\(e)' should contain '\(p)'", file: file, line: line) }
            XCTAssertFalse("\(e)".contains("\n"), file: file, line: line)
        }
    }

    func testBadLinesMissingFilesAndCorruptPNGsAreNamedErrors() throws {
        assertError(try makeFolder(2, extraLines: ["{not json"]), contains: ["metadata.jsonl line 3", "not valid JSON"])
        assertError(try makeFolder(2, extraLines: ["{\"file_name\": \"img0.png\"}"]), contains: ["line 3", "\"text\""])
        assertError(try makeFolder(2, extraLines: ["[1, 2]"]), contains: ["line 3"])
        assertError(try makeFolder(1, extraLines: ["{\"file_name\": \"gone.png\", \"text\": \"x\"}"]), contains: ["line 2", "gone.png", "no such file"])
        assertError(try makeFolder(1, extraLines: ["{\"file_name\": \"../etc/passwd\", \"text\": \"x\"}"]), contains: ["line 2", "relative path"])
        assertError(try makeFolder(1, extraLines: ["{\"file_name\": \"/etc/passwd\", \"text\": \"x\"}"]), contains: ["line 2", "relative path"])

        let corrupt = try makeFolder(3)
        let victim = corrupt.appendingPathComponent("img1.png")
        let bytes = try Data(contentsOf: victim)
        try bytes.prefix(bytes.count / 2).write(to: victim)
        assertError(corrupt, contains: ["metadata.jsonl line 2", "img1.png", "PNG"])
        try Data("GIF89a not a png".utf8).write(to: victim)
        assertError(corrupt, contains: ["line 2", "img1.png"])

        let empty = try temporaryDirectory()
        assertError(empty, contains: ["no metadata.jsonl"])
        try Data("\n\n".utf8).write(to: empty.appendingPathComponent("metadata.jsonl"))
        assertError(empty, contains: ["no usable examples"])
        try Data([0xFF, 0xFE, 0x00]).write(to: empty.appendingPathComponent("metadata.jsonl"))
        assertError(empty, contains: ["not UTF-8"])
        XCTAssertThrowsError(try ImageFolderDataset(directory: try makeFolder(1), resolution: 0))
    }

    func testSkipModeCountsBadLines() throws {
        let dir = try makeFolder(3, extraLines: ["oops", "", "{\"file_name\": \"gone.png\", \"text\": \"x\"}"])
        try Data("junk".utf8).write(to: dir.appendingPathComponent("img2.png"))
        let data = try ImageFolderDataset(directory: dir, resolution: 8, skipInvalid: true)
        XCTAssertEqual(data.items.map { $0.caption }, ["caption 0", "caption 1"])
        XCTAssertEqual(data.skipped.count, 3)
        XCTAssertTrue(data.skipped[0].contains("line 3") && data.skipped[0].contains("img2.png"), data.skipped[0])
        XCTAssertTrue(data.skipped[1].contains("line 4"), data.skipped[1])
        XCTAssertTrue(data.skipped[2].contains("line 6") && data.skipped[2].contains("gone.png"), data.skipped[2])
    }

    func testWindowsLineEndingsAndByteOrderMark() throws {
        let dir = try makeFolder(3)
        let lines = (0..<3).map { "{\"file_name\": \"img\($0).png\", \"text\": \"caption \($0)\"}" }
        try Data(("\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n{bad\r\n").utf8).write(to: dir.appendingPathComponent("metadata.jsonl"))
        assertError(dir, contains: ["metadata.jsonl line 4", "not valid JSON"])
        let data = try ImageFolderDataset(directory: dir, resolution: 8, skipInvalid: true)
        XCTAssertEqual(data.items.map { $0.caption }, ["caption 0", "caption 1", "caption 2"])
    }

    func testGrammarCaptionsCarryLabels() throws {
        let dir = try temporaryDirectory()
        try PNGCodec.write(RGBImage(width: 8, height: 8), to: dir.appendingPathComponent("a.png"))
        let caption = "a large cyan square in the centre on a grey background"
        try Data("{\"file_name\":\"a.png\",\"text\":\"\(caption)\"}\n".utf8).write(to: dir.appendingPathComponent("metadata.jsonl"))
        let data = try ImageFolderDataset(directory: dir, resolution: 8)
        XCTAssertEqual(data.items[0].labels, try Caption.parse(caption))
    }
}
