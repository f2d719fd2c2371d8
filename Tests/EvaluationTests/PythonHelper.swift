import Foundation
import XCTest

/// Runs a short Python script for cross-checks against numpy/scipy. Throws XCTSkip when
/// python3 or a needed module is missing, so machines without them (CI) skip rather than fail.
enum Python {
    /// The interpreter found for each import line, so each test pays for the search once.
    private static var found: [String: String?] = [:]

    static func run(_ script: String, modules: [String], arguments: [String] = []) throws -> String {
        // $MSCM_PYTHON, then every python3 on PATH, then the usual places: the first one that
        // imports the modules wins (a pyenv shim may have numpy where /usr/bin/python3 has not).
        let env = ProcessInfo.processInfo.environment
        var candidates = env["MSCM_PYTHON"].map { [$0] } ?? []
        candidates += (env["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        candidates += ["/usr/bin/python3", "/usr/local/bin/python3", "/opt/homebrew/bin/python3"]
        let imports = modules.map { "import \($0)" }.joined(separator: "; ")
        let python = try found[imports] ?? candidates.first { path in
            guard FileManager.default.isExecutableFile(atPath: path) else { return false }
            return try launch(path, ["-c", imports]).status == 0
        }
        found[imports] = python
        guard let python else { throw XCTSkip("no python3 with \(modules.joined(separator: ", ")) found") }
        let result = try launch(python, ["-c", script] + arguments)
        guard result.status == 0 else {
            XCTFail("python script failed: \(result.stderr)")
            return ""
        }
        return result.stdout
    }

    private static func launch(_ path: String, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mscm-eval-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}
