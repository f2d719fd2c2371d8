import Foundation
import XCTest
@testable import Datasets

final class ImageFolderExportTests: XCTestCase {
    func testExportThenLoadGivesTheSameImagesAndCaptions() throws {
        for resolution in [16, 32] {
            let synthetic = try ShapesDataset(resolution: resolution, seed: 31)
            let out = try temporaryDirectory().appendingPathComponent("export")
            try ImageFolderExport.export(synthetic, count: 40, to: out)
            let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
            XCTAssertEqual(files.count, 41)
            XCTAssertEqual(files.first, "000000.png")
            XCTAssertTrue(files.contains("metadata.jsonl"))

            let folder = try ImageFolderDataset(directory: out, resolution: resolution, seed: 0)
            XCTAssertEqual(folder.count, 40)
            for i in 0..<40 {
                XCTAssertEqual(folder.items[i], synthetic.example(i), "example \(i) at \(resolution)")
            }
            // Through the batch path too: the tensors are bit-identical.
            let order = folder.order(epoch: 0)
            let fromFolder = folder.batch(size: 40, step: 0)
            let fromStream = synthetic.batch(indices: order)
            XCTAssertEqual(fromFolder.captions, fromStream.captions)
            XCTAssertEqual(fromFolder.labels, fromStream.labels)
            XCTAssertEqual(Array(fromFolder.images.buffer), Array(fromStream.images.buffer))
        }
    }

    func testExportRefusesANonEmptyDirectoryAndLeavesNothingBehind() throws {
        let parent = try temporaryDirectory()
        let data = try ShapesDataset(resolution: 16, seed: 0)
        let busy = parent.appendingPathComponent("busy")
        try FileManager.default.createDirectory(at: busy, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: busy.appendingPathComponent("note.txt"))
        XCTAssertThrowsError(try ImageFolderExport.export(data, count: 3, to: busy)) { e in XCTAssertTrue("\(e)".contains("not empty")) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: busy.path), ["note.txt"])

        // An existing empty directory is filled.
        let empty = parent.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        try ImageFolderExport.export(data, count: 2, to: empty)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty.path).count, 3)

        XCTAssertThrowsError(try ImageFolderExport.export(data, count: 2, to: parent.appendingPathComponent("no/such/dir")))
        XCTAssertThrowsError(try ImageFolderExport.export(data, count: 0, to: parent.appendingPathComponent("zero")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent.path).sorted(), ["busy", "empty"], "no partial folders")
    }

    func testMetadataLinesAreJSONWithEscaping() throws {
        XCTAssertEqual(try ImageFolderExport.jsonLine(file: "000001.png", text: "say \"hi\"\\"),
                       #"{"file_name":"000001.png","text":"say \"hi\"\\"}"#)
    }
}
