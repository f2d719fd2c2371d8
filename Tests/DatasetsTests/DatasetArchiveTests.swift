import Foundation
import XCTest
@testable import Datasets

/// An image folder packed into one file for the artifact store and unpacked on a worker.
final class DatasetArchiveTests: XCTestCase {
    func testPackUnpackGivesTheSameDatasetAndTheSameBytesEveryTime() throws {
        let dir = try temporaryDirectory(), work = try temporaryDirectory()
        try PatternFolder.write(count: 30, size: 16, format: .csv, captionKey: "prompt", heldoutCombinations: [0, 5], to: dir)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("unused"), withIntermediateDirectories: true)
        let a = work.appendingPathComponent("a.tar"), b = work.appendingPathComponent("b.tar")
        let summary = try DatasetArchive.pack(dir, captionKey: "prompt", to: a)
        try DatasetArchive.pack(dir, captionKey: "prompt", to: b)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b), "the same folder packs to the same bytes")
        XCTAssertEqual(summary.records, 30)
        XCTAssertEqual(summary.files, 30)
        XCTAssertEqual(summary.heldout, 4, "combinations 0 and 5 of 24: pictures 0, 5, 24 and 29")

        let out = work.appendingPathComponent("unpacked")
        try DatasetArchive.unpack(a, into: out)
        // Canonical metadata: the caption is under "text" now, the split kept.
        let original = try ImageFolderDataset(directory: dir, resolution: 16, split: .train, captionKey: "prompt")
        let unpacked = try ImageFolderDataset(directory: out, resolution: 16, split: .train)
        XCTAssertEqual(unpacked.items, original.items)
        XCTAssertEqual(try ImageFolderDataset(directory: out, resolution: 16, split: .heldout).items.count, 4)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("metadata.csv").path))

        // tar can list it, when tar is installed.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/tar") || FileManager.default.isExecutableFile(atPath: "/bin/tar") {
            let p = Process(), pipe = Pipe()
            p.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/bin/tar") ? "/usr/bin/tar" : "/bin/tar")
            p.arguments = ["-tf", a.path]
            p.standardOutput = pipe
            try p.run()
            let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            XCTAssertEqual(listing.split(separator: "\n").first, "metadata.jsonl")
            XCTAssertEqual(listing.split(separator: "\n").count, 31)
        }
    }

    func testACorruptPNGFailsThePackAndWritesNothing() throws {
        let dir = try temporaryDirectory(), work = try temporaryDirectory()
        try PatternFolder.write(count: 5, size: 8, to: dir)
        let victim = dir.appendingPathComponent("pattern-0003.png")
        let bytes = try Data(contentsOf: victim)
        try bytes.prefix(bytes.count / 2).write(to: victim)
        let out = work.appendingPathComponent("d.tar")
        XCTAssertThrowsError(try DatasetArchive.pack(dir, to: out)) { e in
            XCTAssertTrue("\(e)".contains("metadata.csv line 5"), "\(e)")
            XCTAssertTrue("\(e)".contains("pattern-0003.png"), "\(e)")
            XCTAssertFalse("\(e)".contains("\n"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.path), [])
    }

    func testUnpackRefusesEscapingNamesAndGarbage() throws {
        let work = try temporaryDirectory()
        let evil = work.appendingPathComponent("evil.tar")
        try (DatasetArchive.header(name: "../x.png", size: 1) + Data([1]) + Data(count: 511 + 1024)).write(to: evil)
        XCTAssertThrowsError(try DatasetArchive.unpack(evil, into: work.appendingPathComponent("out"))) {
            XCTAssertTrue("\($0)".contains("not a relative path"), "\($0)")
        }
        try Data("hello".utf8 + [UInt8](repeating: 7, count: 600)).write(to: evil)
        XCTAssertThrowsError(try DatasetArchive.unpack(evil, into: work.appendingPathComponent("out2"))) {
            XCTAssertTrue("\($0)".contains("not a dataset archive"), "\($0)")
        }
    }
}
