import Foundation
import XCTest
@testable import Datasets

/// Datasets as users have them: metadata.csv or metadata.jsonl, the caption under text, caption
/// or a key of their own, an optional split column, otherwise a seeded held-out fraction.
final class ImageFolderMetadataTests: XCTestCase {
    func folder(_ metadataName: String, _ text: String, pictures: Int = 3) throws -> URL {
        let dir = try temporaryDirectory()
        for i in 0..<pictures { try PNGCodec.write(PatternFolder.image(i, size: 8), to: dir.appendingPathComponent("p\(i).png")) }
        try Data(text.utf8).write(to: dir.appendingPathComponent(metadataName))
        return dir
    }

    func captions(_ dir: URL, key: String? = nil) throws -> [String] {
        try ImageFolderDataset(directory: dir, resolution: 8, captionKey: key).items.map(\.caption)
    }

    func testCSVWithQuotesCommasNewlinesAndCRLF() throws {
        let csv = "file_name,caption,extra\r\np0.png,\"a teal, striped pattern\",1\r\np1.png,\"a \"\"quoted\"\"\nword\",2\r\n\r\np2.png,plain,3\r\n"
        XCTAssertEqual(try captions(try folder("metadata.csv", csv)), ["a teal, striped pattern", "a \"quoted\"\nword", "plain"])
        let records = try ImageFolderMetadata(directory: try folder("metadata.csv", csv)).records
        XCTAssertEqual(records.map(\.line), [2, 3, 6])
    }

    func testCaptionKeys() throws {
        let jsonl = (0..<3).map { "{\"file_name\": \"p\($0).png\", \"caption\": \"c\($0)\", \"prompt\": \"p\($0)\"}" }.joined(separator: "\n")
        XCTAssertEqual(try captions(try folder("metadata.jsonl", jsonl)), ["c0", "c1", "c2"])
        XCTAssertEqual(try captions(try folder("metadata.jsonl", jsonl), key: "prompt"), ["p0", "p1", "p2"])
        let csv = "prompt,file_name\nx,p0.png\ny,p1.png\n"
        XCTAssertEqual(try captions(try folder("metadata.csv", csv), key: "prompt"), ["x", "y"])
        // "text" wins over "caption" when both are there.
        XCTAssertEqual(try captions(try folder("metadata.csv", "file_name,caption,text\np0.png,c,t\n")), ["t"])
    }

    func assertOneLineError(_ make: @autoclosure () throws -> Any, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try make(), file: file, line: line) { e in
            for p in parts { XCTAssertTrue("\(e)".contains(p), "'\(e)' should contain '\(p)'", file: file, line: line) }
            XCTAssertFalse("\(e)".contains("\n"), "\(e)", file: file, line: line)
        }
    }

    func testBadMetadataIsOneLineNamingTheLine() throws {
        assertOneLineError(try captions(try folder("metadata.csv", "file_name,caption\np0.png,a\np1.png\n")),
                           contains: ["metadata.csv line 3", "1 fields, the header has 2"])
        assertOneLineError(try captions(try folder("metadata.csv", "name,caption\np0.png,a\n")), contains: ["line 1", "file_name"])
        assertOneLineError(try captions(try folder("metadata.csv", "file_name,caption\np0.png,\"open\n")), contains: ["line 2", "never closed"])
        assertOneLineError(try captions(try folder("metadata.csv", "file_name,caption\np0.png,a\n"), key: "prompt"), contains: ["\"prompt\""])
        assertOneLineError(try captions(try folder("metadata.csv", "file_name,caption\nphoto.jpg,a\n")), contains: ["line 2", "PNG only", "mogrify"])
        let both = try folder("metadata.csv", "file_name,caption\np0.png,a\n")
        try Data("{\"file_name\": \"p0.png\", \"text\": \"a\"}".utf8).write(to: both.appendingPathComponent("metadata.jsonl"))
        assertOneLineError(try captions(both), contains: ["both metadata.jsonl and metadata.csv"])
        assertOneLineError(try captions(try folder("metadata.csv", "file_name,caption,split\np0.png,a,train\np1.png,b,dev\n")),
                           contains: ["line 3", "split 'dev'"])
        assertOneLineError(try captions(try folder("metadata.csv", "file_name,caption,split\np0.png,a,train\np1.png,b,\n")),
                           contains: ["line 3", "no split"])
    }

    func testSplitColumnDecides() throws {
        let dir = try folder("metadata.csv", "file_name,text,split\np0.png,a,train\np1.png,b,test\np2.png,c,validation\n")
        XCTAssertEqual(try ImageFolderDataset(directory: dir, resolution: 8, split: .train).items.map(\.caption), ["a"])
        XCTAssertEqual(try ImageFolderDataset(directory: dir, resolution: 8, split: .heldout).items.map(\.caption), ["b", "c"])
        XCTAssertEqual(try ImageFolderDataset(directory: dir, resolution: 8).items.count, 3)
    }

    /// The seeded fraction holds out whole caption groups, the same ones every time, and a
    /// training split's batches never draw them.
    func testSeededHeldOutFractionKeepsCaptionsApart() throws {
        let dir = try temporaryDirectory()
        try PatternFolder.write(count: 96, size: 8, format: .jsonl, captionKey: "text", to: dir)
        let train = try ImageFolderDataset(directory: dir, resolution: 8, seed: 7, split: .train, heldout: 0.125)
        let held = try ImageFolderDataset(directory: dir, resolution: 8, split: .heldout, heldout: 0.125)
        XCTAssertEqual(held.items.count, 12)
        XCTAssertEqual(train.items.count, 84)
        XCTAssertEqual(held.heldoutSplit.source, "12.5 % held out (seed 0)")
        let heldCaptions = Set(held.items.map(\.caption))
        XCTAssertEqual(heldCaptions.count, 3, "each caption appears four times, so whole groups of four are held out")
        for step in 0..<(3 * 84 / 12) { XCTAssertTrue(heldCaptions.isDisjoint(with: train.batch(size: 12, step: step).captions)) }
        // Independent of the training seed, and reproducible.
        let again = try ImageFolderDataset(directory: dir, resolution: 8, seed: 99, split: .heldout, heldout: 0.125)
        XCTAssertEqual(again.records, held.records)
        XCTAssertThrowsError(try ImageFolderDataset(directory: dir, resolution: 8, split: .heldout, heldout: 0)) {
            XCTAssertTrue("\($0)".contains("no usable examples in the heldout split"), "\($0)")
        }
    }
}
