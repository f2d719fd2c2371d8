import Foundation
import JobQueue
import XCTest
@testable import Jobs

/// Issue 19 item 7: the README's commands are real. Every `mscm-ctl`, `mscm-worker` and
/// `mscm-bench` command it shows (in code blocks and in inline code) names a command, subcommand,
/// job kind and flags that exist under those names — checked against the built binaries'
/// own `--help` — and none of them writes into the checkout's tracked files: every `--out`,
/// `--export` or `>` target is under /tmp/ or .mscm/, or a placeholder such as FILE or DIR.
final class ReadmeTests: XCTestCase {
    var helpCache: [[String]: String] = [:]

    func help(_ program: String, _ args: [String]) throws -> String {
        if let h = helpCache[[program] + args] { return h }
        let p = Process()
        p.executableURL = ScratchTestCase.binDirectory.appendingPathComponent(program)
        guard FileManager.default.isExecutableFile(atPath: p.executableURL!.path) else { throw XCTSkip("\(program) is not built next to the tests") }
        p.arguments = args + ["--help"]
        p.environment = [:]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        helpCache[[program] + args] = text
        return text
    }

    /// The flags a help text lists (`  --name VALUE  …` or `  -f, --name  …`).
    func flags(in help: String) -> Set<String> {
        var out: Set<String> = []
        for line in help.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("  "), let m = t.range(of: "^(-[a-z], )?--[a-z0-9-]+", options: .regularExpression) else { continue }
            out.insert(String(t[m].split(separator: " ").last!.dropFirst(2)))
        }
        return out
    }

    /// Command lines: code blocks (indented or fenced, `\` continuations joined) and inline code.
    func commandLines(_ readme: String) -> [String] {
        var lines: [String] = [], pending = "", fenced = false
        for raw in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if raw.hasPrefix("```") { fenced.toggle(); continue }
            if fenced || raw.hasPrefix("    ") {
                var text = raw.trimmingCharacters(in: .whitespaces)
                if !pending.isEmpty { text = pending + " " + text; pending = "" }
                if text.hasSuffix("\\") { pending = String(text.dropLast()); continue }
                lines.append(text)
            } else {
                pending = ""
                var rest = Substring(raw)
                while let open = rest.firstIndex(of: "`"), let close = rest[rest.index(after: open)...].firstIndex(of: "`") {
                    lines.append(String(rest[rest.index(after: open)..<close]))
                    rest = rest[rest.index(after: close)...]
                }
            }
        }
        // A trailing "# comment" is prose.
        return lines.map { l in l.range(of: "  #").map { String(l[..<$0.lowerBound]) } ?? l }
    }

    func testEveryCommandShownExistsAndWritesNoTrackedFile() throws {
        guard let ops = ProjectDirectory.find("ops") else { throw XCTSkip("no checkout found (set MSCM_HOME)") }
        let readme = try String(contentsOf: ops.deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let commands = Set(try help("mscm-ctl", []).split(separator: "\n").compactMap { l -> String? in
            l.hasPrefix("  ") ? l.split(separator: " ").first.map(String.init) : nil
        })
        XCTAssertTrue(commands.isSuperset(of: ["submit", "report", "schedule", "artifacts"]), "\(commands)")
        let kinds = Set(JobRegistry.kinds)
        let benchAreas = Set(try help("mscm-bench", []).split(separator: "\n").compactMap { l -> String? in
            l.hasPrefix("  ") ? l.split(separator: " ").first.map(String.init) : nil
        })
        var checked = 0
        for line in commandLines(readme) {
            let tokens = line.split(separator: " ").map(String.init)
            let programs = ["mscm-ctl", "mscm-worker", "mscm-bench"]
            // The program itself or a path to it (.build/release/mscm-ctl), not its source folder (mscm-ctl/).
            guard let at = tokens.firstIndex(where: { t in programs.contains { t == $0 || t.hasSuffix("/" + $0) } }) else { continue }
            let program = programs.first { tokens[at] == $0 || tokens[at].hasSuffix("/" + $0) }!
            let words = Array(tokens[(at + 1)...])
            var args: [String] = []
            switch program {
            case "mscm-ctl":
                guard let cmd = words.first, !cmd.hasSuffix(":"), !cmd.hasPrefix("<") else { continue }
                XCTAssertTrue(commands.contains(cmd), "README: '\(line)': no command '\(cmd)'")
                guard commands.contains(cmd) else { continue }
                args = [cmd]
                let next = words.count > 1 ? words[1] : ""
                if cmd == "submit", kinds.contains(next) { args.append(next) }
                if cmd == "submit", !next.isEmpty, !next.hasPrefix("<"), !next.hasPrefix("-") {
                    XCTAssertTrue(kinds.contains(next), "README: '\(line)': no job kind '\(next)'")
                }
                if ["schedule", "report", "artifacts", "dataset"].contains(cmd), next.range(of: "^[a-z]+$", options: .regularExpression) != nil {
                    args.append(next)
                    let subHelp = try help("mscm-ctl", args)
                    XCTAssertTrue(subHelp.hasPrefix("usage: mscm-ctl \(cmd) \(next)") || subHelp.contains("\n       mscm-ctl \(cmd) \(next)"),
                                  "README: '\(line)': no subcommand '\(cmd) \(next)': \(subHelp)")
                    if cmd == "schedule", next == "add", let kind = words.first(where: { kinds.contains($0) }) {
                        args += ["NAME", "--kind", kind]
                    }
                }
            case "mscm-bench":
                if let area = words.first, !area.hasPrefix("[") {
                    XCTAssertTrue(benchAreas.contains(area), "README: '\(line)': no benchmark area '\(area)'")
                }
                continue
            default: args = []
            }
            let known = flags(in: try help(program, args))
            let text = words.joined(separator: " ")
            let flagPattern = try NSRegularExpression(pattern: "(?<![\\w-])--([a-z][a-z0-9-]*)")
            let shown = flagPattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
                String(text[Range($0.range(at: 1), in: text)!])
            }
            for flag in shown where flag != "help" {
                XCTAssertTrue(known.contains(flag), "README: '\(line)': \(program) \(args.joined(separator: " ")) has no flag --\(flag)")
            }
            for (i, w) in words.enumerated() where ["--out", "--export", ">"].contains(w) && i + 1 < words.count {
                let target = words[i + 1].trimmingCharacters(in: CharacterSet(charactersIn: "[]()`"))
                let fine = target.hasPrefix("/tmp/") || target.hasPrefix(".mscm/") || target.range(of: "^[A-Z][A-Z_]*$", options: .regularExpression) != nil
                XCTAssertTrue(fine, "README: '\(line)' writes \(target): use /tmp/… or .mscm/… so no command touches tracked files")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 40, "the README's commands were found")
    }
}
