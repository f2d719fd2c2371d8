import Formats
import XCTest
@testable import JobQueue

/// The migration runner's rules, against a real PostgreSQL (DATABASE_URL, set by ops/test).
final class MigratorTests: XCTestCase {
    var scratch: ScratchDatabase!
    override func setUpWithError() throws { scratch = try ScratchDatabase() }
    override func tearDown() { scratch?.drop() }

    func m(_ v: Int, _ name: String, _ sql: String) -> Migrator.Migration { .init(version: v, name: name, sql: sql) }

    func testLibpqRoundTrip() throws {
        let db = try scratch.connect()
        let row = try db.query("SELECT $1::int + 1 AS n, $2::text AS s, NULL::text AS z", ["41", "naïve 'quoted'"]).first!
        XCTAssertEqual(row.int("n"), 42)
        XCTAssertEqual(row["s"], "naïve 'quoted'")
        XCTAssertNil(row["z"])
    }

    func testAppliesInOrderOnceAndSecondRunIsNoOp() throws {
        let db = try scratch.connect()
        let migrator = try Migrator(migrations: [
            m(2, "add_col", "ALTER TABLE t ADD COLUMN b int"),
            m(1, "create", "CREATE TABLE t (a int)"),
        ])
        XCTAssertEqual(try migrator.migrate(db).map(\.version), [1, 2])
        XCTAssertEqual(try migrator.migrate(db).count, 0)
        let cols = try db.query("SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY 1")
        XCTAssertEqual(cols.rows.map { $0[0]! }, ["a", "b"])
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM schema_migrations").first!.int("n"), 2)
    }

    func testEditedAppliedMigrationIsRefused() throws {
        let db = try scratch.connect()
        try Migrator(migrations: [m(1, "create", "CREATE TABLE t (a int)")]).migrate(db)
        let edited = try Migrator(migrations: [m(1, "create", "CREATE TABLE t (a bigint)")])
        XCTAssertThrowsError(try edited.migrate(db)) { error in
            XCTAssertTrue("\(error)".contains("0001_create.sql was edited"), "\(error)")
        }
    }

    func testFailingMigrationLeavesDatabaseAsItWas() throws {
        let db = try scratch.connect()
        let migrator = try Migrator(migrations: [
            m(1, "create", "CREATE TABLE t (a int)"),
            m(2, "broken", "CREATE TABLE u (x int); INSERT INTO u VALUES (1); SELECT no_such_function();"),
        ])
        XCTAssertThrowsError(try migrator.migrate(db)) { error in
            XCTAssertTrue("\(error)".contains("0002_broken.sql failed"), "\(error)")
        }
        // Migration 1 committed on its own; migration 2 left nothing behind.
        XCTAssertEqual(try db.query("SELECT version FROM schema_migrations").rows.map { $0[0]! }, ["1"])
        XCTAssertEqual(try db.query("SELECT to_regclass('u') IS NULL AS gone").first!.bool("gone"), true)
        XCTAssertEqual(try db.query("SELECT to_regclass('t') IS NOT NULL AS here").first!.bool("here"), true)
    }

    func testDirectoryLoadingRejectsBadNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "SELECT 1".write(to: dir.appendingPathComponent("0001_ok.sql"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try Migrator(directory: dir).migrations.map(\.name), ["ok"])
        try "SELECT 1".write(to: dir.appendingPathComponent("oops.sql"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Migrator(directory: dir))
    }

    func testProjectMigrationsApplyCleanly() throws {
        let db = try scratch.connect()
        let migrator = try Migrator.project()
        try migrator.migrate(db)
        XCTAssertEqual(try migrator.migrate(db).count, 0)
    }

    /// The binaries carry the migrations (EmbeddedMigrations.swift, written by ops/embed); the
    /// files in Migrations/ stay the source of truth. Same names, same bytes, same checksums —
    /// else a database migrated from the checkout would refuse the copied binaries.
    func testEmbeddedMigrationsMatchTheMigrationsDirectory() throws {
        guard let dir = ProjectDirectory.find("Migrations") else { throw XCTSkip("no Migrations/ directory (set MSCM_HOME)") }
        let onDisk = try Migrator(directory: dir).migrations, embedded = try Migrator.project().migrations
        XCTAssertEqual(embedded.map(\.version), onDisk.map(\.version),
                       "Sources/JobQueue/EmbeddedMigrations.swift is out of step with Migrations/ — run ops/embed")
        for (e, d) in zip(embedded, onDisk) {
            XCTAssertEqual(e.name, d.name, "run ops/embed")
            XCTAssertEqual(e.checksum, d.checksum, "\(d.name): the embedded text differs from the file — run ops/embed")
        }
    }
}

final class SHA256Tests: XCTestCase {
    func testKnownDigests() {
        XCTAssertEqual(SHA256.hex(Array("".utf8)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        XCTAssertEqual(SHA256.hex(long), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Streaming in uneven pieces gives the same digest as one update.
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var s = SHA256()
        var i = 0
        for step in [1, 63, 64, 65, 1000, 7] { s.update(data[i..<min(i + step, data.count)]); i = min(i + step, data.count) }
        s.update(data[i...])
        XCTAssertEqual(s.finalizeHex(), SHA256.hex(data))
    }
}
