import Formats
import Foundation
import XCTest
import Models
import NeuralNet
@testable import Jobs

/// Issue 15: a crafted model file given to `mscm-ctl sample` or `artifacts import --kind
/// teacher` is one error line and exit status 1 — it used to be exit 134/136 with a backtrace
/// (SIGFPE for maxGroups 0), or an import that stored bytes every worker then crashed on.
final class CtlBadFileTests: ScratchTestCase {
    func testCraftedModelFilesAreOneLineAndNeverStored() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("teacher.safetensors")
        try ModelFile.write(try TextToImageModel(.tiny, seed: 0), kind: "teacher", to: good)
        let original = try SafeTensors.readOrdered(good)

        /// The good teacher with its config JSON edited (`uvit` fields come last in the sorted JSON).
        func crafted(_ name: String, _ field: String, _ value: String) throws -> URL {
            var meta = original.metadata, config = meta["config"]!
            let range = try XCTUnwrap(config.range(of: "\"\(field)\":", options: .backwards))
            let end = config[range.upperBound...].firstIndex { $0 == "," || $0 == "}" }!
            config.replaceSubrange(range.upperBound..<end, with: value)
            meta["config"] = config
            let url = dir.appendingPathComponent(name)
            try SafeTensors.write(Array(zip(original.names, original.tensors)), metadata: meta, to: url)
            return url
        }
        func raw(_ name: String, _ bytes: [UInt8]) throws -> URL {
            let url = dir.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url
        }
        var seed: UInt64 = 7
        let random = (0..<4096).map { _ -> UInt8 in seed = seed &* 6364136223846793005 &+ 1442695040888963407; return UInt8(seed >> 56) }
        let overlap = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        let bad: [(URL, String)] = [
            (try crafted("groups.safetensors", "maxGroups", "0"), "config.uvit.maxGroups must be ≥ 1, got 0"),
            (try crafted("mlp.safetensors", "mlpRatio", "-1"), "config.uvit.mlpRatio must be ≥ 1, got -1"),
            (try crafted("wide.safetensors", "embeddingWidth", "4611686018427387904"), "config.uvit.embeddingWidth must be ≤ 65536"),
            (try raw("random.safetensors", random), "safetensors file"),
            (try raw("length.safetensors", [UInt8](repeating: 0xFF, count: 8) + Array("{}".utf8)), "header length 18446744073709551615 exceeds"),
            (try raw("truncated.safetensors", Array(try Data(contentsOf: good).prefix(5000))), "truncated"),
            (try raw("overlap.safetensors", (0..<8).map { UInt8(truncatingIfNeeded: overlap.utf8.count >> (8 * $0)) } + Array(overlap.utf8) + [UInt8](repeating: 0, count: 8)),
             "overlaps tensor 'a'"),
        ]
        let out = dir.appendingPathComponent("out.png")
        for (file, fragment) in bad {
            let sample = try ctl("sample", "--model", file.path, "--prompt", "a red circle", "--out", out.path, "--sampler", "ddim", "--steps", "2")
            // A file that is no mscm model at all is refused from its header, as a usage error (2);
            // one whose config is crafted fails while loading (1), naming the field.
            XCTAssertTrue([1, 2].contains(sample.status), "\(file.lastPathComponent): \(sample.err)")
            XCTAssertEqual(sample.err.filter { $0 == "\n" }.count, 1, sample.err)
            XCTAssertTrue(sample.err.hasPrefix("mscm-ctl sample: ") && sample.err.contains(file.path), sample.err)
            if sample.status == 1 { XCTAssertTrue(sample.err.contains(fragment), sample.err) }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))

            let imported = try ctl("artifacts", "import", file.path, "--name", "t", "--kind", "teacher")
            XCTAssertEqual(imported.status, 1, imported.err)
            XCTAssertEqual(imported.err.filter { $0 == "\n" }.count, 1, imported.err)
            XCTAssertTrue(imported.err.hasPrefix("mscm-ctl artifacts: not a valid teacher: ") && imported.err.contains(fragment), imported.err)
        }
        XCTAssertEqual(try JSON.parse(try ctl("artifacts", "list", "--json").out).array?.count, 0, "nothing was stored")

        // The good file samples and imports; as the wrong kind it is refused.
        let wrongKind = try ctl("artifacts", "import", good.path, "--name", "t", "--kind", "student")
        XCTAssertEqual(wrongKind.status, 1)
        XCTAssertTrue(wrongKind.err.contains("holds a teacher, expected a student"), wrongKind.err)
        let sample = try ctl("sample", "--model", good.path, "--prompt", "a red circle", "--out", out.path, "--sampler", "ddim", "--steps", "2")
        XCTAssertEqual(sample.status, 0, sample.err)
        let imported = try ctl("artifacts", "import", good.path, "--name", "t", "--kind", "teacher")
        XCTAssertEqual(imported.status, 0, imported.err)
    }

    /// Handlers check what they store: a checkpoint or teacher that does not read back is never put.
    func testArtifactContentChecksEveryFormattedKind() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("content-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = dir.appendingPathComponent("junk.bin")
        try Data("not a model".utf8).write(to: junk)
        for kind in ["teacher", "student", "evaluator", "teacher-checkpoint", "distill-checkpoint"] {
            XCTAssertTrue(ArtifactContent.checkedKinds.contains(kind))
            XCTAssertThrowsError(try checkArtifactContent(kind: kind, file: junk)) {
                XCTAssertTrue("\($0)".hasPrefix("not a valid \(kind): safetensors file '\(junk.path)'"), "\($0)")
            }
        }
        XCTAssertNoThrow(try checkArtifactContent(kind: "grid", file: junk), "kinds without a format pass")
    }
}
