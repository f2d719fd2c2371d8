import Foundation
import XCTest
@testable import JobQueue

final class SecretsTests: XCTestCase {
    func testPasswordsAreMaskedInURLsAndKeyValueStrings() {
        let url = "postgresql://worker:s3cr%40t!@db.example:5432/mscm?sslmode=require"
        XCTAssertEqual(Set(Secrets.passwords(in: url)), ["s3cr%40t!", "s3cr@t!"])
        XCTAssertEqual(Secrets.displayable(url), "postgresql://worker:***@db.example:5432/mscm?sslmode=require")
        let kv = "host=db user=worker password='p w\\'d' dbname=mscm"
        XCTAssertEqual(Secrets.passwords(in: kv), ["p w\\'d"])
        XCTAssertFalse(Secrets.redact("failed for \(kv)", conninfo: kv).contains("p w"))
        XCTAssertEqual(Secrets.redact("echo: hunter22 and more", conninfo: "postgresql://u:hunter22@h/d"), "echo: *** and more")
    }

    /// libpq echoes a malformed connection string in its error; the password must not come out.
    func testConnectionErrorsDoNotLeakThePassword() {
        for conninfo in ["postgresql://mscm:TopSecret99@127.0.0.1:1/x?bogus_option=1",
                         "host=127.0.0.1 port=1 password=TopSecret99 nonsense",
                         "postgresql://mscm:TopSecret99@127.0.0.1:1/x?connect_timeout=1"] {
            XCTAssertThrowsError(try PGConnection(conninfo)) { e in
                XCTAssertFalse("\(e)".contains("TopSecret99"), "\(e)")
                XCTAssertFalse("\(e)".contains("\n"))
            }
        }
    }
}
