import Datasets
import Foundation
import JobQueue
import XCTest
@testable import Jobs

/// Polls `condition` every 50 ms until it holds; fails the test after `timeout` seconds.
func eventually(_ timeout: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () throws -> Bool) rethrows {
    let until = Date().addingTimeInterval(timeout)
    while Date() < until {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    XCTFail("timed out after \(timeout) s waiting for: \(what)", file: file, line: line)
}

/// A scratch database with the migrations applied, and ways to run the built executables
/// (`mscm-worker`, `mscm-ctl`, found next to the test bundle) against it.
class ScratchTestCase: XCTestCase {
    var scratch: ScratchDatabase!
    /// Reconnects by itself: some tests restart the server.
    var handle: DBHandle!
    var processes: [Process] = []
    var logs: [URL] = []

    override func setUpWithError() throws {
        scratch = try ScratchDatabase()
        _ = try scratch.migrated()
        handle = DBHandle(scratch.url)
    }

    override func tearDown() {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        processes = []
        for l in logs { try? FileManager.default.removeItem(at: l) }
        handle = nil
        scratch?.drop()
    }

    var store: JobStore { get throws { JobStore(try handle.get()) } }

    func job(_ id: Int64) throws -> Job { try XCTUnwrap(try handle.with { try JobStore($0).get(id) }) }

    /// Like `job`, but nil while the database is unreachable.
    func jobIfReachable(_ id: Int64) -> Job? { try? handle.with { try JobStore($0).get(id) } }

    static var binDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    func executable(_ name: String) throws -> URL {
        let url = ScratchTestCase.binDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw XCTSkip("\(name) is not built next to the tests (run ops/test, which builds every product)")
        }
        return url
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = scratch.url
        // Output is fitted to $COLUMNS when set; the tests choose it themselves.
        env["COLUMNS"] = nil
        return env
    }

    /// Starts `mscm-worker` with `args`; its output goes to a log file shown on failure.
    @discardableResult
    func spawnWorker(_ args: [String], environment extra: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = try executable("mscm-worker")
        p.arguments = args
        p.environment = environment.merging(extra) { $1 }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let h = try FileHandle(forWritingTo: log)
        p.standardOutput = h
        p.standardError = h
        try p.run()
        processes.append(p)
        logs.append(log)
        return p
    }

    /// Everything the spawned workers printed (for failure messages).
    var workerOutput: String {
        logs.compactMap { try? String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n---\n")
    }

    /// Runs `mscm-ctl args…` to completion: (exit status, stdout, stderr).
    func ctl(_ args: String...) throws -> (status: Int32, out: String, err: String) {
        try runProgram("mscm-ctl", args)
    }

    /// Runs one of the built executables with `args` (and `environment` plus `extra`).
    func runProgram(_ program: String, _ args: [String], extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = try executable(program)
        p.arguments = args
        p.environment = environment.merging(extra) { _, new in new }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Runs a program to completion with posix_spawn + waitpid. (Foundation's Process waits for
    /// a pipe to close, which never happens when the program leaves a daemon behind — as
    /// `ops/pg restart` does.) Returns the exit status.
    func runToCompletion(_ path: String, _ args: [String]) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }

    func waitForExit(_ p: Process, timeout: Double) -> Bool {
        let until = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < until { Thread.sleep(forTimeInterval: 0.05) }
        return !p.isRunning
    }
}

/// Opens a page in headless Chromium (ops/report-browser-check): it must render and no
/// text of its plots may be clipped. Without Chromium the check is skipped with a line.
func checkInBrowser(cleanup: inout [URL], _ page: URL, plot: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
    guard let ops = ProjectDirectory.find("ops") else { print("checkInBrowser: no ops/ directory; skipped"); return }
    let shot = FileManager.default.temporaryDirectory.appendingPathComponent("shot-\(UUID().uuidString).png")
    cleanup.append(shot)
    let p = Process()
    p.executableURL = ops.appendingPathComponent("report-browser-check")
    p.arguments = [page.path, shot.path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    if p.terminationStatus == 77 { print(text, terminator: ""); return }
    XCTAssertEqual(p.terminationStatus, 0, text, file: file, line: line)
    XCTAssertTrue(text.contains(" clipped=0"), text, file: file, line: line)
    guard p.terminationStatus == 0 else { return }
    // MSCM_KEEP_SCREENSHOTS=DIR keeps a copy of each screenshot, to look at.
    if let keep = ProcessInfo.processInfo.environment["MSCM_KEEP_SCREENSHOTS"] {
        let name = page.deletingLastPathComponent().lastPathComponent + "-" + page.deletingPathExtension().lastPathComponent + ".png"
        try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: keep + "/" + name)
        try? FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep).appendingPathComponent(name))
    }
    // The screenshot shows the page: not blank, wider than it is empty.
    let png = try PNGCodec.read(shot)
    XCTAssertEqual(png.width, 1280, file: file, line: line)
    var dark = 0
    for i in stride(from: 0, to: png.width * png.height, by: 7) where png.pixels[3 * i] < 100 { dark += 1 }
    XCTAssertGreaterThan(dark, 100, "the screenshot shows text", file: file, line: line)
    if plot {
        // The plot's first series is drawn in Okabe–Ito blue #0072B2: the SVG really rendered.
        var blue = 0
        for i in 0..<(png.width * png.height) {
            let (r, g, b) = (Int(png.pixels[3 * i]), Int(png.pixels[3 * i + 1]), Int(png.pixels[3 * i + 2]))
            if abs(r - 0x00) < 24 && abs(g - 0x72) < 24 && abs(b - 0xB2) < 24 { blue += 1 }
        }
        XCTAssertGreaterThan(blue, 50, "the plot's lines and points are on the screenshot", file: file, line: line)
    }
}
