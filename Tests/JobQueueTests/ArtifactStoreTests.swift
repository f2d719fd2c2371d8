import Formats
import Foundation
import XCTest
@testable import JobQueue

final class ArtifactStoreTests: QueueTestCase {
    func tempFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("art-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A file larger than several chunks goes in and comes out byte for byte, with the sha256
    /// an independent one-shot digest gives.
    func testFileStreamsThroughChunksIntact() throws {
        let artifacts = ArtifactStore(db, chunkSize: 1000)
        let bytes = (0..<4567).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 3) }
        let info = try artifacts.put(name: "weights-v1", kind: "weights", file: tempFile(bytes))
        XCTAssertEqual(info.sha256, SHA256.hex(bytes))
        XCTAssertEqual(info.size, 4567)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM blob_chunks").first!.int("n"), 5)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try artifacts.export("weights-v1", to: out)
        XCTAssertEqual(Array(try Data(contentsOf: out)), bytes)
        XCTAssertEqual(Array(try artifacts.data(String(info.sha256.prefix(10)))), bytes)
    }

    func testSameBytesAreStoredOnceUnderManyNames() throws {
        let artifacts = ArtifactStore(db)
        let a = try artifacts.put(name: "a", kind: "metrics", data: Data("same".utf8))
        let b = try artifacts.put(name: "b", kind: "metrics", data: Data("same".utf8))
        XCTAssertEqual(a.sha256, b.sha256)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM blobs").first!.int("n"), 1)
        XCTAssertEqual(try artifacts.info("b")?.name, "b")
        // A name resolves to its newest version (pointing a name at other bytes is explicit).
        try artifacts.put(name: "a", kind: "metrics", data: Data("newer".utf8), replace: true)
        XCTAssertEqual(try artifacts.data("a"), Data("newer".utf8))
        XCTAssertNil(try artifacts.info("nope"))
        XCTAssertThrowsError(try artifacts.require("nope")) { XCTAssertEqual("\($0)", "no artifact 'nope' (see mscm-ctl artifacts list)") }
    }

    func testCorruptChunkIsDetectedAndExportLeavesNoFile() throws {
        let artifacts = ArtifactStore(db, chunkSize: 4)
        let info = try artifacts.put(name: "x", kind: "metrics", data: Data("0123456789".utf8))
        try db.query("UPDATE blob_chunks SET data = 'XXXX'::bytea WHERE sha256 = $1 AND seq = 1", [info.sha256])
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString)")
        XCTAssertThrowsError(try artifacts.export("x", to: out)) { XCTAssertTrue("\($0)".contains("corrupt"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)
            .filter { $0.contains(out.lastPathComponent) }
        XCTAssertEqual(leftovers, [])
    }

    func testBadNamesAndMissingFilesAreOneLineErrors() throws {
        let artifacts = ArtifactStore(db)
        XCTAssertThrowsError(try artifacts.put(name: "", kind: "weights", data: Data()))
        XCTAssertThrowsError(try artifacts.put(name: "a", kind: "Bad Kind", data: Data()))
        XCTAssertThrowsError(try artifacts.put(name: "a", kind: "weights", file: URL(fileURLWithPath: "/nonexistent/f"))) {
            XCTAssertEqual("\($0)", "cannot read /nonexistent/f")
        }
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM blobs").first!.int("n"), 0)
        // An empty artifact is fine.
        XCTAssertEqual(try artifacts.data(artifacts.put(name: "empty", kind: "metrics", data: Data()).sha256), Data())
    }

    /// A spec naming an artifact is valid only when the store has it, of the right kind.
    func testArtifactFlagsAreCheckedAgainstTheStore() throws {
        let artifacts = ArtifactStore(db)
        let table = [SpecFlag("teacher", .artifact(kind: "weights"), required: true, help: "teacher")]
        XCTAssertThrowsError(try SpecFlag.validate(["teacher": "teacher-v1"], against: table, kind: "distill", artifacts: artifacts)) {
            XCTAssertEqual("\($0)", "distill spec: 'teacher': no artifact 'teacher-v1' (see mscm-ctl artifacts list)")
        }
        let sha = try artifacts.put(name: "teacher-v1", kind: "weights", data: Data("w".utf8)).sha256
        XCTAssertNoThrow(try SpecFlag.validate(["teacher": "teacher-v1"], against: table, kind: "distill", artifacts: artifacts))
        XCTAssertNoThrow(try SpecFlag.validate(["teacher": .string(sha)], against: table, kind: "distill", artifacts: artifacts))
        try artifacts.put(name: "grid", kind: "image", data: Data("png".utf8))
        XCTAssertThrowsError(try SpecFlag.validate(["teacher": "grid"], against: table, kind: "distill", artifacts: artifacts)) {
            XCTAssertEqual("\($0)", "distill spec: 'teacher': artifact 'grid' has kind image, not weights")
        }
    }
}
