import XCTest
import Foundation
import NeuralNet
@testable import Evaluation
@testable import Training

/// The shapes-world evaluator is exactly what it was before folder evaluators existed: the
/// weights of a tiny evaluator after 20 iterations (seed 3) hash to the value measured at
/// commit 0ae02d0, before the change (FNV-1a over every tensor's name and float bits, in
/// parameter order). The evaluator's layers multiply through OpenBLAS, whose kernels (and so
/// the last bits) depend on the CPU; the digest is the Prescott kernels', which ops/test selects
/// (OPENBLAS_CORETYPE) and every x86-64 CPU runs.
final class ShapesEvaluatorPinTests: XCTestCase {
    static func digest(_ evaluator: Evaluator) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for (name, t) in evaluator.namedTensors() {
            name.utf8.forEach(mix)
            for v in t.toArray() { withUnsafeBytes(of: v.bitPattern.littleEndian) { $0.forEach(mix) } }
        }
        return h
    }

    func testTinyShapesEvaluatorWeightsAreUnchanged() throws {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]?.lowercased() == "prescott" else {
            throw XCTSkip("the digest is pinned for OpenBLAS's Prescott kernels: run through ops/test (OPENBLAS_CORETYPE=Prescott)")
        }
        var config = EvaluatorConfig.tiny
        config.seed = 3; config.iterations = 20
        let trainer = try EvaluatorTrainer(config: config)
        while trainer.iteration < config.iterations { try trainer.step() }
        let d = Self.digest(trainer.evaluator)
        print("shapes evaluator digest: \(String(d, radix: 16))")
        XCTAssertEqual(String(d, radix: 16), "28da29e6c89cdd4d")
    }
}
