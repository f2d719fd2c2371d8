import Formats
import Foundation
import JobQueue
import XCTest
@testable import Jobs

/// Rules every registered kind must follow, so later kinds cannot break `submit` or the worker.
final class RegistryTests: XCTestCase {
    struct EmptyCatalog: ArtifactCatalog { func info(_ ref: String) throws -> ArtifactInfo? { nil } }

    func testKindsAreUniqueAndValidNames() {
        let kinds = JobRegistry.kinds
        XCTAssertEqual(Set(kinds).count, kinds.count)
        for k in kinds { XCTAssertNotNil(k.range(of: "^[a-z][a-z0-9-]{0,62}$", options: .regularExpression), k) }
        XCTAssertTrue(kinds.contains("sleep"))
        XCTAssertTrue(JobRegistry.handler(for: "sleep") == SleepJob.self)
        XCTAssertNil(JobRegistry.handler(for: "nope"))
    }

    /// A kind's flags must not collide with each other or with submit's own flags, and its
    /// defaults must pass its own validation.
    func testFlagTablesAreConsistent() throws {
        let reserved: Set<String> = ["queue", "priority", "max-attempts", "delay", "unique-key", "json", "help",
                                     "kind", "every", "daily-at"]
        for h in JobRegistry.all {
            let names = h.flags.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, "\(h.kind): duplicate flag")
            XCTAssertEqual(Set(h.flags.map(\.key)).count, names.count, "\(h.kind): duplicate spec key")
            XCTAssertTrue(reserved.isDisjoint(with: names), "\(h.kind) reuses a reserved flag")
            let defaults = JSON.object(Dictionary(uniqueKeysWithValues: h.flags.compactMap { f in f.defaultValue.map { (f.key, $0) } }))
            if !h.flags.contains(where: \.required) {
                XCTAssertNoThrow(try h.validate(spec: defaults, artifacts: EmptyCatalog()), h.kind)
            }
        }
    }
}
