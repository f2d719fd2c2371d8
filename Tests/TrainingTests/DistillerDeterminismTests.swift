import Foundation
import XCTest
import Datasets
import Diffusion
import NeuralNet
@testable import Models
@testable import Training

/// Guards the bytes of fixed-w distillation: the student file and the checkpoint of a short
/// `tiny` run must keep the sha256 they had before guidance-conditioned students were added
/// (computed on commit 414ed9b). A change here means every existing run would no longer
/// reproduce — if it is intended, say so in the commit and update the hashes. The bytes depend
/// on the kernels the build uses (Package.swift picks FMA kernels on AVX2 + FMA machines), so
/// the hashes are checked only there.
final class DistillerDeterminismTests: XCTestCase {
    static let studentSHA = "b5bbe936df4410756e50d56f5b7e15d96210538049caa3d203aff9db4f9abf6f"
    static let checkpointSHA = "7d4205f816b5a0d434a7a5cd591a66ba0c3db196613c35ba3516b28fa445e0f8"

    /// sha256 of a file with the system's `sha256sum` (the Models tests do not link JobQueue).
    func sha256(_ url: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum", url.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("sha256sum is not available") }
        return String(String(decoding: out, as: UTF8.self).prefix(64))
    }

    func testFixedGuidanceDistillationKeepsItsBytes() throws {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(cpu.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        guard flags.isSuperset(of: ["avx2", "fma"]) else { throw XCTSkip("the pinned hashes are those of an AVX2 + FMA build") }
        let teacher = try tinyModel(seed: 61)
        perturbParameters(teacher, seed: 62, std: 0.1)
        let config = DistillationConfig(studentSteps: 2, teacherSteps: .fixed(16), mode: .cd, guidance: 3, xvarFraction: 0.75,
                                        huberC: 1e-3, iterations: 4, batchSize: 4, learningRate: 3e-3, warmupSteps: 2,
                                        emaDecay: 0.9, emaTarget: false, seed: 7, checkpointEvery: 0)
        let dir = try temporaryDirectory(self)
        let d = try Distiller(config: config, teacher: teacher, teacherSHA: "feed", dataset: config.openDataset(resolution: 16))
        let ckpt = dir.appendingPathComponent("c.safetensors"), student = dir.appendingPathComponent("s.safetensors")
        XCTAssertEqual(try d.run(checkpoint: ckpt, shouldStop: { d.iteration == 3 }), .stopped(atIteration: 3))
        XCTAssertEqual(try d.run(), .finished)
        try d.writeStudent(to: student)
        let got = (try sha256(ckpt), try sha256(student))
        print("fixed-w distillation: checkpoint \(got.0), student \(got.1)")
        XCTAssertEqual(got.0, Self.checkpointSHA, "the fixed-w checkpoint's bytes changed")
        XCTAssertEqual(got.1, Self.studentSHA, "the fixed-w student's bytes changed")
    }
}
