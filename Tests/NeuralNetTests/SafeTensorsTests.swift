import Tensors
import XCTest
import Foundation
@testable import NeuralNet

final class SafeTensorsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mscm-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A file assembled byte by byte from the format description: u64 header length, JSON, data.
    func handBuilt(_ header: String, _ data: [UInt8], name: String = "hand.safetensors") throws -> URL {
        var bytes = [UInt8](repeating: 0, count: 8)
        let h = Array(header.utf8)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64(i))) }
        bytes += h + data
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func le32(_ values: [Float]) -> [UInt8] { values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } } }
    func le16(_ values: [UInt16]) -> [UInt8] { values.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

    func testRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        let a = randomTensor([2, 3, 4], seed: 1), b = Tensor(shape: [], values: [7.5]), empty = Tensor(shape: [0, 5])
        let special = Tensor(shape: [4], values: [.infinity, -0.0, .leastNonzeroMagnitude, -Float.greatestFiniteMagnitude])
        let url = dir.appendingPathComponent("model.safetensors")
        let meta = ["step": "12", "note": "quote \" backslash \\ newline \n ünï"]
        try SafeTensors.write([("down.0.conv.weight", a), ("scalar", b), ("empty", empty), ("special", special)], metadata: meta, to: url)
        let (names, tensors, metadata) = try SafeTensors.readOrdered(url)
        XCTAssertEqual(names, ["down.0.conv.weight", "scalar", "empty", "special"])
        XCTAssertEqual(tensors.map(\.shape), [[2, 3, 4], [], [0, 5], [4]])
        XCTAssertEqual(tensors[0].toArray(), a.toArray())
        XCTAssertEqual(tensors[1][0], 7.5)
        XCTAssertEqual(tensors[3].toArray().map(\.bitPattern), special.toArray().map(\.bitPattern))
        XCTAssertEqual(metadata, meta)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(leftovers, ["model.safetensors"], "no temporary file left behind")
        // The header is padded so the data starts 8-byte aligned.
        let bytes = try Data(contentsOf: url)
        let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + n) % 8, 0)
    }

    func testWrittenBytesMatchTheFormatExactly() throws {
        let url = dir.appendingPathComponent("small.safetensors")
        try SafeTensors.write([("w", Tensor(shape: [2], values: [1, -2]))], to: url)
        let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"
        var padded = header
        while (padded.utf8.count + 8) % 8 != 0 { padded += " " }
        let expected = try Data(contentsOf: handBuilt(padded, le32([1, -2])))
        XCTAssertEqual(try Data(contentsOf: url), expected)
    }

    func testReadsHandBuiltF32F16BF16() throws {
        // F16: 1, −2, 0.5, 65504 (max), 2⁻²⁴ (smallest subnormal), +Inf.  BF16: 1, −2, 3.140625.
        let f16: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00]
        let bf16: [UInt16] = [0x3F80, 0xC000, 0x4049]
        let f32 = le32([0.25, 3])
        let header = """
        {"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
        "h":{"dtype":"F16","shape":[2,3],"data_offsets":[8,20]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[20,26]}}
        """
        let url = try handBuilt(header, f32 + le16(f16) + le16(bf16))
        let (tensors, metadata) = try SafeTensors.read(url)
        XCTAssertEqual(metadata, ["format": "pt"])
        XCTAssertEqual(tensors["a"]!.toArray(), [0.25, 3])
        XCTAssertEqual(tensors["h"]!.shape, [2, 3])
        XCTAssertEqual(tensors["h"]!.toArray(), [1, -2, 0.5, 65504, Float(1.0 / 16_777_216.0), .infinity])
        XCTAssertEqual(tensors["b"]!.toArray(), [1, -2, 3.140625])
        XCTAssertTrue(floatFromF16(0x7E00).isNaN)
        XCTAssertEqual(floatFromF16(0x8400), -Float(6.103515625e-05))
    }

    func testCorruptFilesAreErrorsNamingFileAndTensor() throws {
        func expectError(_ url: URL, tensor: String?, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try SafeTensors.read(url), line: line) { error in
                guard let e = error as? SafeTensorsError else { return XCTFail("unexpected error \(error)", line: line) }
                XCTAssertEqual(e.file, url.path, line: line)
                XCTAssertEqual(e.tensor, tensor, "\(e)", line: line)
                XCTAssertTrue(e.description.contains(fragment), "\(e)", line: line)
                XCTAssertTrue(e.description.contains(url.path), line: line)
            }
        }
        let data8 = le32([1, 2])
        func entry(_ name: String, _ dtype: String = "F32", _ shape: String = "[1]", offsets: String) -> String {
            "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
        }
        expectError(try handBuilt("{" + entry("x", offsets: "[0,4]") + "," + entry("y", offsets: "[4,12]") + "}", data8 + data8, name: "1"),
                    tensor: "y", "needs 4 bytes")
        expectError(try handBuilt("{" + entry("x", offsets: "[0,4]") + "," + entry("y", offsets: "[8,12]") + "}", data8, name: "2"),
                    tensor: "y", "outside the 8-byte buffer")
        expectError(try handBuilt("{" + entry("x", "F32", "[2]", offsets: "[0,8]") + "," + entry("y", offsets: "[4,8]") + "}", data8, name: "3"),
                    tensor: "y", "overlaps tensor 'x'")
        expectError(try handBuilt("{" + entry("x", offsets: "[0,4]") + "," + entry("x", offsets: "[4,8]") + "}", data8, name: "4"),
                    tensor: "x", "duplicate name")
        expectError(try handBuilt("{" + entry("x", "F16", "[3]", offsets: "[0,8]") + "}", data8, name: "5"), tensor: "x", "F16 shape [3] needs 6 bytes")
        expectError(try handBuilt("{" + entry("x", "I64", "[1]", offsets: "[0,8]") + "}", data8, name: "6"), tensor: "x", "unsupported dtype I64")
        expectError(try handBuilt("{" + entry("x", offsets: "[4,8]") + "}", data8, name: "7"), tensor: "x", "gap of 4 bytes")
        expectError(try handBuilt("{" + entry("x", offsets: "[0,4]") + "}", data8, name: "8"), tensor: nil, "4 bytes after the last tensor")
        expectError(try handBuilt("{" + entry("x", "F32", "[-1]", offsets: "[0,4]") + "}", data8, name: "9"), tensor: "x", "non-negative integer")
        expectError(try handBuilt("{\"x\": [1, 2", data8, name: "10"), tensor: nil, "invalid header JSON")
        expectError(try handBuilt("[1]", [], name: "11"), tensor: nil, "not a JSON object")
        expectError(try handBuilt("{" + entry("x", offsets: "[8,4]") + "}", data8, name: "12"), tensor: "x", "begin ≤ end")
        // Header length larger than the file.
        let short = dir.appendingPathComponent("short")
        try Data([200, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D]).write(to: short)
        expectError(short, tensor: nil, "truncated")
        try Data([1, 2, 3]).write(to: short)
        expectError(short, tensor: nil, "less than the 8-byte header length")
        try Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).write(to: short)
        expectError(short, tensor: nil, "exceeds")
        expectError(dir.appendingPathComponent("missing.safetensors"), tensor: nil, "cannot read")
    }

    /// Every truncation of a valid file is an error, never a crash.
    func testEveryTruncationIsRejected() throws {
        let url = dir.appendingPathComponent("full.safetensors")
        try SafeTensors.write([("a", randomTensor([3, 2], seed: 2)), ("b", randomTensor([5], seed: 3))], metadata: ["k": "v"], to: url)
        let full = try Data(contentsOf: url)
        let cut = dir.appendingPathComponent("cut.safetensors")
        for length in 0..<full.count {
            try full.prefix(length).write(to: cut)
            XCTAssertThrowsError(try SafeTensors.read(cut), "prefix of \(length) bytes")
        }
        XCTAssertNoThrow(try SafeTensors.read(url))
    }

    func testWriteRejectsDuplicatesAndLeavesNothingBehind() throws {
        let url = dir.appendingPathComponent("dup.safetensors")
        XCTAssertThrowsError(try SafeTensors.write([("a", Tensor(shape: [1])), ("a", Tensor(shape: [1]))], to: url)) {
            XCTAssertTrue("\($0)".contains("duplicate name"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        XCTAssertThrowsError(try SafeTensors.write([("a", Tensor(shape: [1]))], to: dir.appendingPathComponent("no/such/dir.safetensors")))
    }

    /// Python's safetensors reads what mscm writes (names, shapes, values), and mscm reads
    /// what Python writes (F32 and F16). Skipped when python3 lacks safetensors or numpy.
    func testPythonInterop() throws {
        guard runPython("import safetensors.numpy, numpy").status == 0 else {
            throw XCTSkip("python3 with safetensors and numpy is not installed")
        }
        let ours = dir.appendingPathComponent("ours.safetensors")
        let a = randomTensor([3, 4], seed: 5), b = randomTensor([2, 1, 2], seed: 6)
        try SafeTensors.write([("enc.layer.0.weight", a), ("b", b)], metadata: ["who": "mscm"], to: ours)
        let check = runPython("""
        import json, sys, numpy as np
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="np") as f: meta = f.metadata()
        print(json.dumps({"meta": meta, "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype), "values": [float(x) for x in v.ravel()]} for k, v in t.items()}}))
        """, ours.path)
        XCTAssertEqual(check.status, 0, check.output)
        let json = try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as! [String: Any]
        XCTAssertEqual(json["meta"] as? [String: String], ["who": "mscm"])
        let tensors = json["tensors"] as! [String: [String: Any]]
        XCTAssertEqual(Set(tensors.keys), ["enc.layer.0.weight", "b"])
        XCTAssertEqual(tensors["enc.layer.0.weight"]!["shape"] as? [Int], [3, 4])
        XCTAssertEqual(tensors["b"]!["shape"] as? [Int], [2, 1, 2])
        XCTAssertEqual(tensors["b"]!["dtype"] as? String, "float32")
        XCTAssertEqual((tensors["enc.layer.0.weight"]!["values"] as! [Double]).map(Float.init), a.toArray())
        XCTAssertEqual((tensors["b"]!["values"] as! [Double]).map(Float.init), b.toArray())

        let theirs = dir.appendingPathComponent("theirs.safetensors")
        let write = runPython("""
        import sys, numpy as np
        from safetensors.numpy import save_file
        save_file({"x": np.arange(6, dtype=np.float32).reshape(2, 3) / 4, "h": np.array([1.5, -0.25, 1000], dtype=np.float16)}, sys.argv[1], metadata={"m": "1"})
        """, theirs.path)
        XCTAssertEqual(write.status, 0, write.output)
        let (tensors2, meta2) = try SafeTensors.read(theirs)
        XCTAssertEqual(meta2, ["m": "1"])
        XCTAssertEqual(tensors2["x"]!.shape, [2, 3])
        XCTAssertEqual(tensors2["x"]!.toArray(), [0, 0.25, 0.5, 0.75, 1, 1.25])
        XCTAssertEqual(tensors2["h"]!.toArray(), [1.5, -0.25, 1000])
    }

    func runPython(_ script: String, _ args: String...) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script] + args
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }
}
