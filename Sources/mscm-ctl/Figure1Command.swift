import CommandLineKit
import Formats
import Foundation
import Jobs
import ToyDiffusion

// `mscm-ctl figure1`: parses the flags and writes the SVG that `ToyDiffusion.Figure1` draws.

let figure1Command = Command(
    name: "figure1",
    summary: "Draw the paper's Figure 1 (1-, 2-, 4-step students and the DDIM teacher on a 1-D mixture) as SVG.",
    usage: "mscm-ctl figure1 [--out FILE] [--iterations N] [--trajectories N] [--teacher-steps N] [--seed N]",
    flags: [.value("out", "FILE", "SVG to write (default docs/figure1.svg)"),
            .value("iterations", "N", "distillation iterations per student (default 3000)"),
            .value("fit-iterations", "N", "iterations fitting the MLP the students start from (default 2000)"),
            .value("trajectories", "N", "trajectories drawn per panel (default 40)"),
            .value("teacher-steps", "N", "DDIM steps of the teacher panel (default 256)"),
            .value("seed", "N", "seed of every draw (default 1)")]
) { flags in
    let out = URL(fileURLWithPath: flags.string("out", default: "docs/figure1.svg"))
    let iterations = try flags.int("iterations", default: 3000, range: 1...1_000_000)!
    let fitIterations = try flags.int("fit-iterations", default: 2000, range: 1...1_000_000)!
    let count = try flags.int("trajectories", default: 40, range: 1...2000)!
    let teacherSteps = try flags.int("teacher-steps", default: 256, range: 2...100_000)!
    let seed = UInt64(try flags.int("seed", default: 1, range: 0...Int(Int32.max))!)
    var isDirectory: ObjCBool = false
    let directory = out.deletingLastPathComponent()
    guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw UsageError("mscm-ctl figure1: directory \(directory.path) does not exist")
    }

    let figure = Figure1(iterations: iterations, fitIterations: fitIterations, trajectories: count,
                         teacherSteps: teacherSteps, seed: seed)
    let svg = try figure.svg { print($0) }
    // Atomic: never a half-written figure.
    do { try AtomicFile.write(svg, to: out) } catch { throw UsageError("mscm-ctl figure1: \(error)") }
    print("wrote \(out.path)")
}
