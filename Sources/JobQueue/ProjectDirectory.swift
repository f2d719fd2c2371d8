import Foundation

/// Finds a folder of the checkout (Prompts/, ops/; tests and local report directories) at run time: `$MSCM_HOME` if set,
/// else the nearest ancestor of the working directory or of the executable that holds `name`.
/// Executables built here live in .build/<config>/, so walking up from them finds the checkout.
public enum ProjectDirectory {
    public static func find(_ name: String) -> URL? {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let home = ProcessInfo.processInfo.environment["MSCM_HOME"] { candidates.append(URL(fileURLWithPath: home)) }
        candidates.append(URL(fileURLWithPath: fm.currentDirectoryPath))
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        for start in candidates {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let probe = dir.appendingPathComponent(name)
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: probe.path, isDirectory: &isDir), isDir.boolValue { return probe }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        return nil
    }
}
