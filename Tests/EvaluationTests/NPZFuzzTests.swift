import Foundation
import FuzzSupport
import XCTest
@testable import Evaluation
@testable import Formats

/// FID statistics files (`.npz`: a zip of `.npy` arrays) on mutated bytes — zip structure,
/// `.npy` headers and data: statistics or one error line naming the file.
final class NPZFuzzTests: XCTestCase {
    func seeds(_ dir: URL) throws -> [[UInt8]] {
        let url = dir.appendingPathComponent("seed.npz")
        try FeatureStatistics(mean: [0.5, -1, 2], covariance: [2, 0.1, 0, 0.1, 1, 0, 0, 0, 3], count: 12, extractor: "x ✓").write(npz: url)
        let stats = Array(try Data(contentsOf: url))
        try NPZ.write([("mu", .float64([1, 2], shape: [2])), ("sigma", .float64([1, 0, 0, 1], shape: [2, 2])), ("count", .scalar(3))], to: url)
        return [stats, Array(try Data(contentsOf: url))]
    }

    func testMutatedStatisticsReadOrFailInOneLine() throws {
        let dir = try temporaryDirectory(self)
        let corpus = try seeds(dir)
        var m = Mutator(seed: Fuzz.seed ^ 0x4E50)
        let url = dir.appendingPathComponent("case.npz")
        let result = fuzzCases(Fuzz.cases(500), { _ in
            do {
                try Data(m.mutate(m.rng.pick(corpus), corpus: corpus)).write(to: url)
                _ = try FeatureStatistics(npz: url)
                return nil
            } catch {
                if !"\(error)".hasPrefix(url.path) { XCTFail("error does not name the file: \(error)") }
                return error
            }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
    }

    /// A `.npy` header of nested tuples used to recurse once per '(' — 65,535 of them fit in a
    /// version-1 header and overflowed the stack; a header's newline also split the error line.
    func testDeepOrMultiLineHeadersAreOneLineErrors() throws {
        func npy(_ header: String) -> [UInt8] {
            let h = Array(header.utf8)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h
        }
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("deep.npz")
        let deep = "{'descr': '<f8', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 60_000) + "}"
        for (header, fragment) in [(deep, "unreadable .npy header"), ("{'descr':\n'<f8' oops}", #"unreadable .npy header '{'descr':\n'<f8' oops}'"#)] {
            try Data(try ZipArchive.write([.init(name: "mu.npy", data: npy(header))])).write(to: url)
            XCTAssertThrowsError(try FeatureStatistics(npz: url)) {
                XCTAssertTrue("\($0)".contains(fragment), "\("\($0)".prefix(300))")
                XCTAssertFalse("\($0)".contains("\n"))
            }
        }
    }
}
