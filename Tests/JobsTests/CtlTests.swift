import Formats
import Foundation
import JobQueue
import XCTest
@testable import Jobs

/// `mscm-ctl` end to end: flags → spec → one row; one-line errors that write nothing.
final class CtlTests: ScratchTestCase {
    func jobCount() throws -> Int { try handle.with { try $0.query("SELECT count(*) AS n FROM jobs").first!.int("n")! } }

    func testSubmitValidatesBeforeWriting() throws {
        let bad: [([String], String)] = [
            (["submit", "sleep", "--seconds", "-1"], "mscm-ctl submit: --seconds must be in 0…86400, got -1"),
            (["submit", "sleep", "--steps", "many"], "mscm-ctl submit: --steps must be an integer, got 'many'"),
            (["submit", "sleep", "--colour", "red"], "mscm-ctl submit: unknown flag --colour (see mscm-ctl submit --help)"),
            (["submit", "teleport"], "mscm-ctl submit: unknown job kind 'teleport' (known: \(JobRegistry.kinds.joined(separator: ", ")))"),
            (["submit", "sleep", "--priority", "12"], "mscm-ctl submit: --priority must be in 0…9, got 12"),
            (["submit", "sleep", "--delay", "soon"], "mscm-ctl submit sleep: --delay must be a duration like 90s or 10m, got 'soon'"),
        ]
        for (args, message) in bad {
            let p = Process()
            p.executableURL = try executable("mscm-ctl")
            p.arguments = args
            p.environment = environment
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 2, "\(args)")
            XCTAssertEqual(e, message + "\n", "\(args)")
        }
        XCTAssertEqual(try jobCount(), 0, "nothing was written")
    }

    func testSubmitListStatusCancelRetryLogs() throws {
        let r = try ctl("submit", "sleep", "--seconds", "5", "--steps", "5", "--priority", "2", "--unique-key", "k1", "--json")
        XCTAssertEqual(r.status, 0, r.err)
        let id = try XCTUnwrap(try JSON.parse(r.out)["id"]?.int)
        XCTAssertEqual(try JSON.parse(try ctl("submit", "sleep", "--unique-key", "k1", "--json").out)["created"], false)
        let j = try job(Int64(id))
        XCTAssertEqual(j.spec, ["seconds": 5.0, "steps": 5, "checkpoint_every": 0, "fail_attempts": 0])
        XCTAssertEqual(j.priority, 2)

        let list = try JSON.parse(try ctl("list", "--state", "queued", "--json").out)
        XCTAssertEqual(list.array?.compactMap { $0["id"]?.int }, [id])
        XCTAssertTrue(try ctl("list").out.contains("sleep  queued"))
        XCTAssertEqual(try JSON.parse(try ctl("status", String(id), "--json").out)["state"], "queued")
        XCTAssertEqual(try ctl("list", "--state", "done").err, "mscm-ctl list: --state must be one of queued, running, succeeded, failed, cancelled, got 'done'\n")

        XCTAssertEqual(try ctl("cancel", String(id)).out, "job \(id) cancelled\n")
        XCTAssertEqual(try ctl("cancel", String(id)).err, "mscm-ctl cancel: job \(id) already cancelled\n")
        XCTAssertEqual(try ctl("retry", String(id)).out, "job \(id) queued to run now\n")
        XCTAssertEqual(try job(Int64(id)).state, .queued)
        let logs = try ctl("logs", String(id)).out
        XCTAssertTrue(logs.contains("[queued]") && logs.contains("[cancelled]") && logs.contains("[queued again by retry]"), logs)
        XCTAssertEqual(try ctl("status", "x").err, "mscm-ctl status: job id must be a positive integer, got 'x'\n")
        XCTAssertEqual(try ctl("status", "999").err, "mscm-ctl status: no job 999\n")
    }

    func testWatchFollowsAJobToTheEnd() throws {
        let id = try store.submit(NewJob(kind: "sleep", spec: ["seconds": 0.4, "steps": 4, "checkpoint_every": 0, "fail_attempts": 0])).id
        try spawnWorker(["--id", "w", "--poll", "0.1"])
        let r = try ctl("watch", String(id), "--interval", "0.1")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("job \(id) succeeded"), r.out)
        XCTAssertTrue(r.out.contains("it 4/4"), r.out)
    }

    func testSchedulesAndArtifactsFromTheCommandLine() throws {
        var r = try ctl("schedule", "add", "nightly", "--kind", "sleep", "--daily-at", "03:00", "--seconds", "2")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("schedule nightly: sleep daily at 03:00:00 UTC; next due "), r.out)
        XCTAssertEqual(try ctl("schedule", "add", "x", "--kind", "sleep", "--every", "1h", "--daily-at", "03:00").err,
                       "mscm-ctl schedule add: give exactly one of --every and --daily-at\n")
        XCTAssertEqual(try ctl("schedule", "add", "x", "--kind", "sleep", "--every", "1h", "--steps", "0").err,
                       "mscm-ctl schedule: --steps must be in 1…1000000, got 0\n")
        let listed = try JSON.parse(try ctl("schedule", "list", "--json").out)
        XCTAssertEqual(listed.array?.first?["spec"]?["seconds"], 2.0)
        XCTAssertEqual(try ctl("schedule", "remove", "nightly").status, 0)
        XCTAssertEqual(try ctl("schedule", "remove", "nightly").err, "mscm-ctl schedule remove: no schedule 'nightly'\n")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try bytes.write(to: dir.appendingPathComponent("in.bin"))
        r = try ctl("artifacts", "import", dir.appendingPathComponent("in.bin").path, "--name", "blob", "--kind", "weights", "--json")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try JSON.parse(r.out)["sha256"]?.string, SHA256.hex(bytes))
        XCTAssertEqual(try ctl("artifacts", "export", "blob", "--out", dir.appendingPathComponent("out.bin").path).status, 0)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("out.bin")), bytes)
        XCTAssertTrue(try ctl("artifacts", "list").out.contains("blob"))
        XCTAssertEqual(try ctl("artifacts", "export", "nothere", "--out", dir.appendingPathComponent("x").path).err,
                       "mscm-ctl artifacts: no artifact 'nothere' (see mscm-ctl artifacts list)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x").path))
        XCTAssertEqual(try ctl("artifacts", "import", "/no/such/file", "--name", "n", "--kind", "weights").err,
                       "mscm-ctl artifacts import: no file /no/such/file\n")
    }
    /// Issue 19 item 6 and issue 15 item 7: a duplicate flag is an error; a mistyped flag,
    /// command or subcommand gets the nearest one; subcommands have their own usage;
    /// `mscm-bench --help` works.
    func testMistakesGetOneHelpfulLine() throws {
        var r = try ctl("submit", "sleep", "--steps", "4", "--steps", "8")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.err, "mscm-ctl submit: --steps given twice ('4' and '8'); give it once\n")
        XCTAssertEqual(try ctl("lsit").err, "mscm-ctl: unknown command 'lsit' (did you mean 'list'? see mscm-ctl --help)\n")
        XCTAssertEqual(try ctl("submit", "sleep", "--stpes", "4").err,
                       "mscm-ctl submit: unknown flag --stpes (did you mean --steps? see mscm-ctl submit --help)\n")
        XCTAssertEqual(try ctl("schedule", "ad", "x").err,
                       "mscm-ctl schedule: unknown subcommand 'ad' (did you mean 'add'? subcommands: add, list, remove)\n")
        XCTAssertEqual(try ctl("artifacts", "lst").err,
                       "mscm-ctl artifacts: unknown subcommand 'lst' (did you mean 'list'? subcommands: list, export, import, delete, gc)\n")
        XCTAssertEqual(try jobCount(), 0, "nothing was written")

        r = try ctl("schedule", "add", "--help")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("usage: mscm-ctl schedule add NAME (--every DURATION | --daily-at HH:MM)"), r.out)
        XCTAssertFalse(r.out.contains("schedule list"), r.out)
        XCTAssertTrue(r.out.contains("--daily-at HH:MM"), r.out)
        r = try ctl("artifacts", "export", "--help")
        XCTAssertTrue(r.out.hasPrefix("usage: mscm-ctl artifacts export REF --out FILE\n"), r.out)
        XCTAssertTrue(r.out.contains("flags:\n  --out FILE") && !r.out.contains("  --kind"), r.out)
        r = try ctl("report", "show", "--help")
        XCTAssertTrue(r.out.hasPrefix("usage: mscm-ctl report show JOB|NAME [--export DIR] [--json]\n"), r.out)

        r = try runProgram("mscm-bench", ["--help"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("usage: mscm-bench [AREA]"), r.out)
        XCTAssertTrue(r.out.contains("  queue") && r.out.contains("  engine.conv"), r.out)
        r = try runProgram("mscm-bench", ["engin"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.hasPrefix("mscm-bench: unknown area 'engin' (did you mean 'engine'? choose one of: sgemm, "), r.err)
    }

    /// Names and errors holding terminal escape sequences are printed escaped by list,
    /// artifacts list, status and watch; list, status and watch fit $COLUMNS (a terminal's
    /// width) and print whole lines into a pipe; status is a summary, --json the whole row.
    func testTerminalOutputIsEscapedAndFitted() throws {
        let evil = "evil\u{1B}[2J\u{1B}[31mname"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("x".utf8).write(to: dir.appendingPathComponent("x.bin"))
        // Such a name can no longer be stored (issue 15); rows from before that rule still print escaped.
        XCTAssertEqual(try ctl("artifacts", "import", dir.appendingPathComponent("x.bin").path, "--name", evil, "--kind", "weights").status, 1)
        let x = try ArtifactStore(handle.get()).put(name: "x", kind: "weights", data: Data("x".utf8))
        try handle.with { try $0.query("INSERT INTO artifacts (name, kind, sha256, size) VALUES ($1, 'weights', $2, 1)", [evil, x.sha256]) }
        var r = try ctl("artifacts", "list")
        XCTAssertTrue(r.out.contains("evil\\e[2J\\e[31mname"), r.out)
        XCTAssertFalse(r.out.contains("\u{1B}"), "no raw escape reaches the terminal")

        let id = try XCTUnwrap(try JSON.parse(try ctl("submit", "sleep", "--seconds", "5", "--unique-key", "key\u{1B}]0;pwned\u{7}", "--json").out)["id"]?.int)
        let long = String(repeating: "a very long error that goes on ", count: 10) + "\u{1B}[31mred"
        try handle.with { _ = try $0.query("UPDATE jobs SET error = $1 WHERE id = $2", [long, String(id)]) }

        r = try ctl("status", String(id))
        XCTAssertFalse(r.out.contains("\u{1B}") || r.out.contains("\u{7}"), r.out)
        XCTAssertTrue(r.out.contains("unique key key\\e]0;pwned\\u{7}"), r.out)
        XCTAssertTrue(r.out.contains("\n  spec\n"), r.out)
        XCTAssertTrue(r.out.split(separator: "\n").contains { $0.hasPrefix("    seconds ") && $0.split(separator: " ") == ["seconds", "5"] }, r.out)
        XCTAssertFalse(r.out.contains("{\""), "a summary, not JSON: \(r.out)")
        let row = try JSON.parse(try ctl("status", String(id), "--json").out)
        for key in ["id", "kind", "state", "spec", "attempt", "max_attempts", "errors", "attempted_by", "unique_key", "created_at", "progress"] {
            XCTAssertNotNil(row[key], "status --json has \(key)")
        }

        // Piped: whole lines. With a width: every line fits, the last column gives way.
        r = try ctl("list")
        XCTAssertTrue(r.out.contains("goes on a very long error") && r.out.contains("\\e[31mred"), r.out)
        XCTAssertFalse(r.out.contains("\u{1B}"))
        r = try runProgram("mscm-ctl", ["list"], extra: ["COLUMNS": "60"])
        XCTAssertEqual(r.status, 0, r.err)
        for line in r.out.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 60, String(line)) }
        XCTAssertTrue(r.out.contains("sleep") && r.out.contains("…"), r.out)
        r = try runProgram("mscm-ctl", ["status", String(id)], extra: ["COLUMNS": "50"])
        for line in r.out.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 50, String(line)) }

        // watch: one plain line per change, each within the width.
        try handle.with { _ = try $0.query("UPDATE jobs SET error = NULL WHERE id = $1", [String(id)]) }
        _ = try ctl("cancel", String(id))
        let quick = try XCTUnwrap(try JSON.parse(try ctl("submit", "sleep", "--seconds", "0.3", "--steps", "3", "--json").out)["id"]?.int)
        try spawnWorker(["--id", "w\u{1B}[31m", "--poll", "0.1"])
        r = try runProgram("mscm-ctl", ["watch", String(quick), "--interval", "0.1"], extra: ["COLUMNS": "40"])
        XCTAssertEqual(r.status, 0, r.err)
        for line in r.out.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 40, String(line)) }
        r = try ctl("status", String(quick))
        XCTAssertTrue(r.out.contains("attempted by w\\e[31m"), r.out)
        r = try ctl("logs", String(quick))
        XCTAssertTrue(r.out.contains("[running on w\\e[31m]") && !r.out.contains("\u{1B}"), r.out)
    }
}
