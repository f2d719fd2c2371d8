import FuzzSupport
import Foundation
import Tensors
import XCTest
@testable import NeuralNet

/// Mutated safetensors files (and headers) end in tensors or one `SafeTensorsError` line —
/// never a trap, never an allocation the file does not back. `MSCM_FUZZ_CASES` runs it long.
final class SafeTensorsFuzzTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mscm-st-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Valid files: F32 from the writer, an empty one, and a hand-built F16/BF16 file.
    func seeds() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        let a = dir.appendingPathComponent("a.safetensors")
        try SafeTensors.write([("w", randomTensor([3, 4], seed: 1)), ("b", randomTensor([4], seed: 2)), ("s", Tensor(shape: [], values: [2])),
                               ("e", Tensor(shape: [0, 3]))], metadata: ["kind": "teacher", "config": "{\"x\": [1, 2.5e3]}"], to: a)
        out.append(Array(try Data(contentsOf: a)))
        try SafeTensors.write([], metadata: ["k": "v"], to: a)
        out.append(Array(try Data(contentsOf: a)))
        let header = Array(#"{"__metadata__":{"format":"pt"},"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]}}"#.utf8)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
        bytes += header + [0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F]
        out.append(bytes)
        return out
    }

    /// The header length of `file` re-encoded after `header` was mutated, so most mutants get
    /// past the length check into the JSON and offset checks.
    func withHeader(_ file: [UInt8], _ mutate: ([UInt8]) -> [UInt8]) -> [UInt8] {
        let n = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = mutate(Array(file[8..<(8 + n)]))
        return (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header + file[(8 + n)...]
    }

    func testMutatedFilesAreTensorsOrOneErrorLine() throws {
        let corpus = try seeds()
        var m = Mutator(seed: Fuzz.seed ^ 0x5354)
        let url = dir.appendingPathComponent("case.safetensors")
        let result = fuzzCases(Fuzz.cases(1500), { _ in
            let seed = m.rng.pick(corpus)
            let bytes = m.rng.chance(0.6) ? withHeader(seed) { m.mutate($0, corpus: corpus) } : m.mutate(seed, corpus: corpus)
            do {
                try Data(bytes).write(to: url)
                let r = try SafeTensors.readOrdered(url)
                // A value is internally consistent: every tensor is backed by the file.
                let held = r.tensors.reduce(0) { $0 + $1.count }
                if held > bytes.count { XCTFail("\(held) values read from a \(bytes.count)-byte file") }
                return nil
            } catch let e as SafeTensorsError {
                return e
            } catch {
                XCTFail("not a SafeTensorsError: \(error)")
                return error
            }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0, "some mutants stay valid (e.g. a changed value byte)") }   // some mutants stay valid
    }

    /// A tensor name (or dtype, or metadata key) holding an escaped newline used to make a
    /// two-line error message.
    func testNamesFromTheFileCannotBreakTheErrorLine() throws {
        let header = #"{"a\nb":{"dtype":"F32\r","shape":[1],"data_offsets":[0,4]}}"#
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: header.utf8.count >> (8 * $0)) }
        bytes += Array(header.utf8) + [0, 0, 0, 0]
        let url = dir.appendingPathComponent("newline.safetensors")
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try SafeTensors.read(url)) { e in
            let text = "\(e)"
            XCTAssertFalse(text.contains("\n") || text.contains("\r"), text)
            XCTAssertTrue(text.contains(#"tensor 'a\nb'"#), text)
            XCTAssertTrue(text.contains(#"unsupported dtype F32\r"#), text)
        }
    }

    /// The crafted inputs of issue 15, each one line: 2⁶⁴−1 header length, shape products that
    /// overflow, offsets out of range, deep nesting, invalid UTF-8.
    func testCraftedHeadersAreOneLineErrors() throws {
        func file(_ header: [UInt8], length: UInt64? = nil, data: [UInt8] = []) -> [UInt8] {
            let n = length ?? UInt64(header.count)
            return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + header + data
        }
        let cases: [([UInt8], String)] = [
            (file(Array("{}".utf8), length: UInt64.max), "exceeds"),
            (file(Array(#"{"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}"#.utf8)), "too large"),
            (file(Array(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,18446744073709551615]}}"#.utf8)), "non-negative integer"),
            (file(Array(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8), data: [0, 0, 0, 0]), "overlaps"),
            (file([UInt8](repeating: UInt8(ascii: "["), count: 100_000)), "nested too deeply"),
            (file(Array("{\"".utf8) + [0xC3, 0x28] + Array("\":1}".utf8)), "UTF-8"),
            (file(Array(#"{"x":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#.utf8), data: [0, 0, 0, 0]), "leading zero"),
        ]
        // A zero-sized tensor with a huge axis is valid and allocates nothing.
        let empty = dir.appendingPathComponent("empty-axis")
        try Data(file(Array(#"{"x":{"dtype":"F32","shape":[0,8000000000000000],"data_offsets":[0,0]}}"#.utf8))).write(to: empty)
        XCTAssertEqual(try SafeTensors.read(empty).tensors["x"]?.count, 0)
        for (k, (bytes, fragment)) in cases.enumerated() {
            let url = dir.appendingPathComponent("crafted-\(k)")
            try Data(bytes).write(to: url)
            XCTAssertThrowsError(try SafeTensors.read(url), "case \(k)") { e in
                XCTAssertTrue(e is SafeTensorsError, "\(e)")
                XCTAssertTrue("\(e)".contains(fragment), "case \(k): \(e)")
                XCTAssertFalse("\(e)".contains("\n"))
            }
        }
    }
}
