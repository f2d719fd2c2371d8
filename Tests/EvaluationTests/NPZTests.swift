import XCTest
@testable import Evaluation
@testable import Formats

final class NPZTests: XCTestCase {
    private func sampleStatistics(_ d: Int = 5) throws -> FeatureStatistics {
        let mean = Ref.vector(d, seed: 1)
        return try FeatureStatistics(mean: mean, covariance: Ref.spd(d, seed: 2), count: 1234, extractor: "shapes-features v1 ✓")
    }

    func testStatisticsRoundTrip() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("stats.npz")
        let s = try sampleStatistics()
        try s.write(npz: url)
        XCTAssertEqual(try FeatureStatistics(npz: url), s)
        // Writing is atomic: only the file itself remains, no temporary.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["stats.npz"])
        // The same statistics always give the same bytes (fixed timestamps).
        let again = dir.appendingPathComponent("again.npz")
        try s.write(npz: again)
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: again))
    }

    func testGeneralArraysRoundTrip() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("a.npz")
        let arrays: [(key: String, array: NumpyArray)] = [
            ("scalar", .float64([2.5], shape: [])), ("empty", .float64([], shape: [0])),
            ("cube", .float64((0..<24).map(Double.init), shape: [2, 3, 4])),
            ("ints", NumpyArray(shape: [3], values: .int64([-1, 0, 1 << 40]))),
            ("names", NumpyArray(shape: [2], values: .unicode(["α", "longer name"]))),
            ("special", .float64([.infinity, -0.0, .leastNonzeroMagnitude], shape: [3])),
        ]
        try NPZ.write(arrays, to: url)
        let back = try NPZ.read(url)
        XCTAssertEqual(back.count, arrays.count)
        for (k, a) in arrays { XCTAssertEqual(back[k], a, k) }
    }

    func testHeaderIsAlignedVersionOneNpy() throws {
        let bytes = try NPY.encode(.float64([1, 2, 3, 4, 5, 6], shape: [2, 3]))
        XCTAssertEqual(Array(bytes[0..<8]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertTrue(header.hasSuffix("\n"))
        XCTAssertEqual(bytes.count, 10 + headerLength + 48)
    }

    /// Files written by numpy itself: np.savez (float64, float32, Fortran order, ints,
    /// strings, a big-endian array) and np.savez_compressed (pytorch-fid's --save-stats).
    func testReadsFilesWrittenByNumpy() throws {
        let dir = try temporaryDirectory(self)
        let plain = dir.appendingPathComponent("plain.npz"), packed = dir.appendingPathComponent("packed.npz")
        _ = try Python.run("""
        import sys, numpy as np
        mu = np.array([1.5, -2.0, 3.25])
        sigma = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.25, 3.0]])
        np.savez(sys.argv[1], mu=mu, sigma=sigma, f32=np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
                 fortran=np.asfortranarray(np.arange(6.0).reshape(2, 3)), count=np.int64(77), extractor='inc',
                 big=np.arange(3, dtype='>f8'), i32=np.array([-7, 8], dtype=np.int32), flags=np.array([True, False]))
        np.savez_compressed(sys.argv[2], mu=mu, sigma=sigma)
        """, modules: ["numpy"], arguments: [plain.path, packed.path])
        let a = try NPZ.read(plain)
        XCTAssertEqual(a["f32"], .float64([0, 0.25, 0.5, 0.75, 1, 1.25], shape: [2, 3]))
        XCTAssertEqual(a["fortran"], .float64([0, 1, 2, 3, 4, 5], shape: [2, 3]))
        XCTAssertEqual(a["big"], .float64([0, 1, 2], shape: [3]))
        XCTAssertEqual(a["i32"], NumpyArray(shape: [2], values: .int64([-7, 8])))
        XCTAssertEqual(a["flags"]?.values, .unsupported(descr: "|b1"))
        let s = try FeatureStatistics(npz: plain)
        XCTAssertEqual(s.mean, [1.5, -2.0, 3.25])
        XCTAssertEqual(s.covariance, [2.0, 0.5, 0.0, 0.5, 1.0, 0.25, 0.0, 0.25, 3.0])
        XCTAssertEqual(s.count, 77)
        XCTAssertEqual(s.extractor, "inc")
        let c = try FeatureStatistics(npz: packed)
        XCTAssertEqual(c.mean, s.mean)
        XCTAssertEqual(c.covariance, s.covariance)
        XCTAssertNil(c.count)
    }

    func testNumpyReadsOurFiles() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("ours.npz")
        let s = try sampleStatistics(4)
        try s.write(npz: url)
        let out = try Python.run("""
        import sys, json, numpy as np
        f = np.load(sys.argv[1])
        print(json.dumps({'keys': sorted(f.files), 'mu': f['mu'].tolist(), 'sigma': f['sigma'].tolist(),
                          'dtypes': [str(f['mu'].dtype), str(f['sigma'].dtype)], 'count': int(f['count']),
                          'extractor': str(f['extractor'])}))
        """, modules: ["numpy"], arguments: [url.path])
        struct Seen: Decodable { let keys: [String]; let mu: [Double]; let sigma: [[Double]]; let dtypes: [String]; let count: Int; let extractor: String }
        let seen = try JSONDecoder().decode(Seen.self, from: Data(out.utf8))
        XCTAssertEqual(seen.keys, ["count", "extractor", "mu", "sigma"])
        XCTAssertEqual(seen.dtypes, ["float64", "float64"])
        XCTAssertEqual(seen.mu, s.mean)
        XCTAssertEqual(seen.sigma.flatMap { $0 }, s.covariance)
        XCTAssertEqual(seen.count, 1234)
        XCTAssertEqual(seen.extractor, "shapes-features v1 ✓")
    }

    func testCorruptFilesAreOneLineErrorsNamingTheFile() throws {
        let dir = try temporaryDirectory(self)
        let good = dir.appendingPathComponent("good.npz")
        try sampleStatistics().write(npz: good)
        let bytes = try Data(contentsOf: good)
        func expectError(_ data: Data, _ fragment: String, line: UInt = #line) throws {
            let url = dir.appendingPathComponent("bad.npz")
            try data.write(to: url)
            XCTAssertThrowsError(try FeatureStatistics(npz: url), line: line) { e in
                let message = "\(e)"
                XCTAssertTrue(message.hasPrefix(url.path + ": "), message, line: line)
                XCTAssertTrue(message.contains(fragment), message, line: line)
                XCTAssertFalse(message.contains("\n"), line: line)
            }
        }
        // Truncation anywhere: no end record, or entries that run past the end.
        for cut in [0, 10, 100, bytes.count / 2, bytes.count - 1] {
            try expectError(bytes.prefix(cut), cut < 22 ? "too short" : "not a zip archive")
        }
        var flipped = bytes; flipped[200] ^= 0x40   // inside sigma's data
        try expectError(flipped, "CRC-32")
        try expectError(Data("just some text, not a zip archive at all".utf8), "not a zip archive")
        // Archives that are fine as zips but not as statistics.
        let other = dir.appendingPathComponent("other.npz")
        try NPZ.write([("mu", .float64([1, 2], shape: [2]))], to: other)
        try expectError(try Data(contentsOf: other), "no 'sigma' array")
        try NPZ.write([("mu", .float64([1, 2], shape: [2])), ("sigma", .float64([1, 0, 0], shape: [3]))], to: other)
        try expectError(try Data(contentsOf: other), "'sigma' has shape [3]")
        try NPZ.write([("mu", .float64([1, .nan], shape: [2])), ("sigma", .float64([1, 0, 0, 1], shape: [2, 2]))], to: other)
        try expectError(try Data(contentsOf: other), "non-finite")
        // A broken .npy inside a valid zip.
        let zip = try ZipArchive.write([.init(name: "mu.npy", data: Array("\u{93}NUMPY garbage".utf8))])
        try expectError(Data(zip), "array 'mu'")
        let missing = dir.appendingPathComponent("missing.npz")
        XCTAssertThrowsError(try FeatureStatistics(npz: missing)) { XCTAssertEqual("\($0)", "\(missing.path): no such file") }
    }

    /// ZIP64 fields as zipfile writes them for large archives: saturated sizes and offset in
    /// the central directory with the real values in extra field 1, and the ZIP64 end record.
    func testReadsZip64Layout() throws {
        let payload = try NPY.encode(.float64([1, 2, 3], shape: [3])), name = Array("mu.npy".utf8)
        var z: [UInt8] = []
        func le(_ v: UInt64, _ n: Int) { for i in 0..<n { z.append(UInt8((v >> UInt64(8 * i)) & 0xFF)) } }
        let crc = UInt64(CRC32.checksum(payload))
        // Local header with a ZIP64 extra holding both sizes.
        le(0x0403_4B50, 4); le(45, 2); le(0, 2); le(0, 2); le(0, 2); le(0x21, 2); le(crc, 4)
        le(0xFFFF_FFFF, 4); le(0xFFFF_FFFF, 4); le(UInt64(name.count), 2); le(20, 2); z += name
        le(1, 2); le(16, 2); le(UInt64(payload.count), 8); le(UInt64(payload.count), 8)
        z += payload
        let directory = UInt64(z.count)
        le(0x0201_4B50, 4); le(45, 2); le(45, 2); le(0, 2); le(0, 2); le(0, 2); le(0x21, 2); le(crc, 4)
        le(0xFFFF_FFFF, 4); le(0xFFFF_FFFF, 4); le(UInt64(name.count), 2); le(28, 2); le(0, 2); le(0, 2); le(0, 2)
        le(0, 4); le(0xFFFF_FFFF, 4); z += name
        le(1, 2); le(24, 2); le(UInt64(payload.count), 8); le(UInt64(payload.count), 8); le(0, 8)
        let directorySize = UInt64(z.count) - directory, record = UInt64(z.count)
        le(0x0606_4B50, 4); le(44, 8); le(45, 2); le(45, 2); le(0, 4); le(0, 4); le(1, 8); le(1, 8)
        le(directorySize, 8); le(directory, 8)
        le(0x0706_4B50, 4); le(0, 4); le(record, 8); le(1, 4)
        le(0x0605_4B50, 4); le(0, 2); le(0, 2); le(0xFFFF, 2); le(0xFFFF, 2); le(0xFFFF_FFFF, 4); le(0xFFFF_FFFF, 4); le(0, 2)
        let entries = try ZipArchive.read(z)
        XCTAssertEqual(entries.map(\.name), ["mu.npy"])
        XCTAssertEqual(try NPY.parse(entries[0].data), .float64([1, 2, 3], shape: [3]))
    }

    func testHeaderVariantsParse() throws {
        // Version 2.0 header (4-byte length), double quotes, Python 2 long suffixes, no trailing comma.
        let header = "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L, 1L)}\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0]
        let n = header.utf8.count
        bytes += [UInt8(n & 0xFF), UInt8(n >> 8), 0, 0] + Array(header.utf8)
        for v: Float in [1.5, -3] { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        XCTAssertEqual(try NPY.parse(bytes), .float64([1.5, -3], shape: [2, 1]))
        XCTAssertThrowsError(try NPY.parse(Array(bytes.dropLast())))                  // data truncated
        XCTAssertThrowsError(try NPY.parse(Array(bytes[0..<20])))                      // header truncated
        var badMagic = bytes; badMagic[1] = 0x41
        XCTAssertThrowsError(try NPY.parse(badMagic))
    }
}
