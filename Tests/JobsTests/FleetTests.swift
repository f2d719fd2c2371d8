import Formats
import Foundation
import JobQueue
import XCTest
@testable import Jobs

/// Issue 19 item 1: what a machine of a fleet needs. The binaries carry the migrations and
/// prompts, so a copy of mscm-ctl and mscm-worker in an empty directory, with nothing in its
/// environment but DATABASE_URL, migrates a fresh database and runs a job; the shipped systemd
/// units pass `systemd-analyze verify` (skipped, with a line, where systemd is not installed).
final class FleetTests: ScratchTestCase {
    func testCopiedBinariesInAnEmptyDirectoryNeedOnlyDatabaseURL() throws {
        let fresh = try ScratchDatabase(prefix: "mscm_fleet")
        defer { fresh.drop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["mscm-ctl", "mscm-worker"] {
            try FileManager.default.copyItem(at: try executable(name), to: dir.appendingPathComponent(name))
        }
        let env = ["DATABASE_URL": fresh.url]   // no MSCM_HOME, no PATH, no HOME

        func run(_ program: String, _ args: [String]) throws -> (status: Int32, out: String) {
            let p = Process()
            p.executableURL = dir.appendingPathComponent(program)
            p.arguments = args
            p.environment = env
            p.currentDirectoryURL = dir
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let o = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: o, as: UTF8.self))
        }
        var r = try run("mscm-ctl", ["migrate"])
        XCTAssertEqual(r.status, 0, r.out)
        XCTAssertTrue(r.out.contains("applied 0001_jobs") && r.out.hasSuffix("migration(s)\n"), r.out)
        // The same checksums as the checkout's files: the database agrees with the project.
        let applied = try PGConnection(fresh.url).query("SELECT name, checksum FROM schema_migrations ORDER BY version")
        XCTAssertEqual(applied.map { $0["checksum"]! }, try Migrator.project().migrations.map(\.checksum))
        r = try run("mscm-ctl", ["submit", "sleep", "--seconds", "0.2", "--steps", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.out)
        let id = try XCTUnwrap(try JSON.parse(r.out)["id"]?.int)

        let worker = Process()
        worker.executableURL = dir.appendingPathComponent("mscm-worker")
        worker.arguments = ["--id", "copied", "--poll", "0.1"]
        worker.environment = env
        worker.currentDirectoryURL = dir
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        processes.append(worker)
        let store = JobStore(try PGConnection(fresh.url))
        try eventually(30, "job \(id) succeeded on the copied worker") { try store.get(Int64(id))?.state == .succeeded }
        XCTAssertEqual(try store.get(Int64(id))?.attemptedBy, ["copied"])
        kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        XCTAssertEqual(worker.terminationStatus, 0, "SIGTERM is a clean stop")
        // Nothing was looked up beside the binaries: the directory holds only them.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["mscm-ctl", "mscm-worker"])
    }

    func testSystemdUnitsPassSystemdAnalyzeVerify() throws {
        guard let ops = ProjectDirectory.find("ops") else { throw XCTSkip("no ops/ directory (set MSCM_HOME)") }
        let p = Process()
        p.executableURL = ops.appendingPathComponent("systemd/verify")
        p.arguments = [ScratchTestCase.binDirectory.path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus == 77 { throw XCTSkip(text.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("pass systemd-analyze verify"), text)
    }
}
