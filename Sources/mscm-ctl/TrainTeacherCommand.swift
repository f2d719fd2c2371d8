import CommandLineKit
import Datasets
import Foundation
import JobQueue
import Jobs
import Models
import Training

// mscm-ctl train-teacher: the train-teacher job's library code, run in this process.

let trainTeacherCommand = Command(
    name: "train-teacher",
    summary: "Train a teacher (UViT + text encoder) here, without the queue; writes weights + xvar table.",
    usage: """
    mscm-ctl train-teacher --out FILE [--preset tiny|small|base] [--resolution 16|32|64] [--iterations N] [--batch B] [--lr LR] [--seed K]
                                 [--dataset shapes|DIR] [--heldout F] [--caption-key K] [--min-word-count N]
                                 [--p-uncond P] [--ema-decay D] [--checkpoint FILE] [--checkpoint-every N] [--report-every N]
           mscm-ctl train-teacher --resume CHECKPOINT --out FILE [--iterations N] [--checkpoint FILE] [--report-every N]
    """,
    // The run's settings are the train-teacher job's flags: one declaration (ranges, defaults,
    // help) for the job and this command.
    flags: [.value("out", "FILE", "the teacher to write (safetensors: EMA weights, xvar table, configs); required")]
        + TrainTeacherJob.trainingFlags.map(\.flagSpec)
        + [.value("checkpoint", "FILE", "checkpoint file (default: OUT with .checkpoint.safetensors)"),
           .value("resume", "CHECKPOINT", "continue the run saved in CHECKPOINT (its config and seed apply)"),
           .value("report-every", "N", "iterations between progress lines (default 10)")]
) { flags in
    let cmd = "mscm-ctl train-teacher"
    guard let outPath = flags.string("out") else { throw UsageError("\(cmd): --out is required") }
    if let stray = flags.positional.first { throw UsageError("\(cmd): unexpected argument '\(stray)'") }
    let out = URL(fileURLWithPath: outPath)
    let checkpoint = URL(fileURLWithPath: flags.string("checkpoint")
        ?? (outPath.hasSuffix(".safetensors") ? String(outPath.dropLast(12)) : outPath) + ".checkpoint.safetensors")
    let spec = try SpecFlag.spec(from: flags, table: TrainTeacherJob.trainingFlags, command: cmd)
    let reportEvery = try flags.int("report-every", default: 10, range: 1...1_000_000)!

    let trainer: TeacherTrainer
    if let resume = flags.string("resume") {
        for f in TrainTeacherJob.trainingFlags where f.name != "iterations" && flags.has(f.name) {
            throw UsageError("\(cmd): --\(f.name) cannot change a resumed run (its checkpoint holds the config)")
        }
        trainer = try TeacherTrainer.resume(from: URL(fileURLWithPath: resume), iterations: flags.has("iterations") ? spec["iterations"]?.int : nil)
        print("resuming \(resume) at iteration \(trainer.iteration)/\(trainer.config.iterations)")
    } else {
        let data = try TrainTeacherJob.trainingConfig(spec).openData()
        trainer = try TeacherTrainer(data)
        if let v = data.vocabulary {
            print("data: \(data.dataset.count ?? 0) training pictures, \(data.heldoutCount ?? 0) held out (\((data.dataset as? ImageFolderDataset)?.heldoutSplit.source ?? ""))")
            print(v.line)
        }
    }
    let c = trainer.config
    print("teacher '\(c.model.preset)': \(trainer.model.parameterCount) parameters, "
          + String(format: "%.3f GFLOP forward per image; ", c.model.forwardFLOPs() / 1e9)
          + "\(c.iterations) iterations of batch \(c.batchSize), lr \(c.learningRate), seed \(c.seed), data \(c.dataset)")
    let outcome = try trainer.run(checkpoint: checkpoint, reportEvery: reportEvery, progress: { p in
        print(p.line)
        fflush(stdout)
    })
    guard outcome == .finished else { return }
    print("tabulating xvar over \(c.xvarExamples) examples for \(c.xvarSteps) steps (EMA weights)…")
    fflush(stdout)
    let table = try trainer.writeTeacher(to: out)
    print(String(format: "wrote %@ (xvar from %.3g at t = 1/%d to %.3g at t = 1)", out.path, table.values[0], table.steps,
                 table.values[table.steps - 1]))
}
