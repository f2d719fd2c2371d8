import CommandLineKit
import Foundation
import JobQueue
import Jobs

let migrateCommand = Command(
    name: "migrate",
    summary: "Apply pending database migrations (each once, each in a transaction).",
    usage: "mscm-ctl migrate [--status] [--dir DIR]",
    flags: [.bool("status", "list migrations and whether each is applied; change nothing"),
            .value("dir", "DIR", "read the migrations from this directory instead of the ones built into mscm-ctl")]
) { flags in
    let migrator = try flags.string("dir").map { try Migrator(directory: URL(fileURLWithPath: $0)) } ?? Migrator.project()
    let db = try PGConnection()
    if flags.bool("status") {
        for (m, applied) in try migrator.status(db) {
            print("\(String(format: "%04d", m.version))_\(m.name)  \(applied ? "applied" : "pending")")
        }
        return
    }
    let applied = try migrator.migrate(db) { print($0) }
    print(applied.isEmpty ? "database is up to date" : "applied \(applied.count) migration(s)")
}
