import Formats
import Foundation
import JobQueue
import XCTest
@testable import Jobs

/// Issue 15 from the command line: what an output must satisfy is checked at submit, names
/// are not taken over, inputs are pinned and shown, storage can be collected.
final class CtlHardeningTests: ScratchTestCase {
    func jobCount() throws -> Int { try handle.with { try $0.query("SELECT count(*) AS n FROM jobs").first!.int("n")! } }

    func testOutputNamesAndLimitsAreCheckedAtSubmit() throws {
        for name in ["two\nlines", String(repeating: "x", count: 100_000), "red\u{1B}[31m"] {
            let r = try ctl("submit", "train-teacher", "--preset", "tiny", "--iterations", "10", "--name", name)
            XCTAssertEqual(r.status, 2, r.err)
            XCTAssertTrue(r.err.hasPrefix("mscm-ctl submit train-teacher: --name must be 1–200 characters without control characters"), r.err)
            XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, "one line: \(r.err.prefix(300))")
        }
        let delay = try ctl("submit", "sleep", "--delay", "99999999999d")
        XCTAssertEqual(delay.err, "mscm-ctl submit sleep: --delay must be at most 3660d, got '99999999999d'\n")
        let key = try ctl("submit", "sleep", "--unique-key", String(repeating: "k", count: 3000))
        XCTAssertEqual(key.err, "mscm-ctl submit sleep: --unique-key must be 1–1000 bytes, got 3000\n")
        XCTAssertEqual(try jobCount(), 0, "nothing was written")
        // A name already taken is refused before the job trains for hours.
        try ArtifactStore(handle.get()).put(name: "mine", kind: "teacher", data: Data("x".utf8))
        let taken = try ctl("submit", "train-teacher", "--preset", "tiny", "--name", "mine")
        XCTAssertEqual(taken.status, 1)
        XCTAssertTrue(taken.err.contains("artifact name \"mine\" is taken"), taken.err)
        XCTAssertEqual(try jobCount(), 0)
    }

    func testImportDoesNotShadowANameAndJobsShowWhatTheyPinned() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.json"), b = dir.appendingPathComponent("b.json")
        try Data(#"{"step": 1}"#.utf8).write(to: a)
        try Data(#"{"step": 2}"#.utf8).write(to: b)
        XCTAssertEqual(try ctl("artifacts", "import", a.path, "--name", "notes", "--kind", "metrics").status, 0)
        let shadow = try ctl("artifacts", "import", b.path, "--name", "notes", "--kind", "metrics")
        XCTAssertEqual(shadow.status, 1)
        XCTAssertTrue(shadow.err.contains("is taken") && shadow.err.contains("--replace"), shadow.err)
        XCTAssertEqual(try ArtifactStore(handle.get()).data("notes"), Data(#"{"step": 1}"#.utf8))
        let replaced = try ctl("artifacts", "import", b.path, "--name", "notes", "--kind", "metrics", "--replace")
        XCTAssertEqual(replaced.status, 0, replaced.err)
        XCTAssertEqual(try ArtifactStore(handle.get()).data("notes"), Data(#"{"step": 2}"#.utf8))
        // Delete and collect.
        let del = try ctl("artifacts", "delete", "notes")
        XCTAssertEqual(del.status, 0, del.err)
        XCTAssertEqual(del.out.split(separator: "\n").count, 2, "both versions of the name: \(del.out)")
        let gc = try ctl("artifacts", "gc", "--json")
        XCTAssertEqual(gc.status, 0, gc.err)
        XCTAssertEqual(try JSON.parse(gc.out)["blobs"]?.int, 0)
    }
}
