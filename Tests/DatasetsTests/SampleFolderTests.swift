import Foundation
import XCTest
@testable import Datasets

final class SampleFolderTests: XCTestCase {
    /// Pictures written by `sample --out-dir` are an image folder: names by prompt and seed,
    /// metadata.jsonl with text and seed, readable as a dataset again.
    func testWrittenFolderReadsBackAsAnImageFolder() throws {
        let dir = try temporaryDirectory().appendingPathComponent("samples")
        let prompts = ["a teal dotted pattern on navy", "Ünïcode & émoji 🙂 only", "a teal dotted pattern on navy"]
        var pictures: [SampleFolder.Picture] = []
        for seed in [UInt64(7), 8] {
            for (j, p) in prompts.enumerated() {
                pictures.append(.init(image: PatternFolder.image(j, size: 8), prompt: p, promptIndex: j, seed: seed))
            }
        }
        try SampleFolder.write(pictures, extra: ["sampler": "ddim", "steps": 4], to: dir)
        XCTAssertEqual(SampleFolder.fileName(pictures[0]), "0000-a-teal-dotted-pattern-on-navy-seed7.png")
        XCTAssertEqual(SampleFolder.fileName(pictures[1]), "0001-n-code-moji-only-seed7.png")
        let data = try ImageFolderDataset(directory: dir, resolution: 8)
        XCTAssertEqual(data.items.map(\.caption), prompts + prompts)
        XCTAssertEqual(data.items.map(\.image), pictures.map(\.image))
        XCTAssertEqual(Set(data.records.map(\.fileName)).count, 6, "same prompt twice: the index keeps names apart")
        let first = try XCTUnwrap(String(contentsOf: dir.appendingPathComponent("metadata.jsonl"), encoding: .utf8).split(separator: "\n").first)
        XCTAssertEqual(String(first), #"{"file_name":"0000-a-teal-dotted-pattern-on-navy-seed7.png","sampler":"ddim","seed":7,"steps":4,"text":"a teal dotted pattern on navy"}"#)
        XCTAssertThrowsError(try SampleFolder.write(pictures, to: dir)) { XCTAssertTrue("\($0)".contains("already holds")) }
    }
}
