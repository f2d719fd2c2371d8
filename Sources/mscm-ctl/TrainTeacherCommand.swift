import Datasets
import Foundation
import Jobs
import Models

// mscm-ctl train-teacher: the train-teacher job's library code, run in this process.

let trainTeacherCommand = Command(
    name: "train-teacher",
    summary: "Train a teacher (UViT + text encoder) here, without the queue; writes weights + xvar table.",
    usage: """
    mscm-ctl train-teacher --out FILE [--preset tiny|small|base] [--resolution 16|32|64] [--iterations N] [--batch B] [--lr LR] [--seed K]
                                 [--dataset shapes|DIR] [--heldout F] [--caption-key K] [--min-word-count N]
                                 [--checkpoint FILE] [--checkpoint-every N] [--report-every N]
           mscm-ctl train-teacher --resume CHECKPOINT --out FILE [--iterations N] [--checkpoint FILE] [--report-every N]
    """,
    flags: [.value("out", "FILE", "the teacher to write (safetensors: EMA weights, xvar table, configs); required"),
            .value("preset", "NAME", "model preset: tiny, small (default) or base"),
            .value("iterations", "N", "training iterations (default: the preset's)"),
            .value("batch", "B", "examples per iteration (default: the preset's)"),
            .value("lr", "LR", "peak AdamW learning rate (default: the preset's)"),
            .value("seed", "K", "seed of the weights, data, noise and dropout (default 0)"),
            .value("resolution", "R", "pixels per side: 16, 32 or 64 (default: the preset's; the preset is sized for it)"),
            .value("dataset", "SOURCE", "'shapes' (the built-in shapes world, default) or an image folder (PNGs + metadata.jsonl or .csv)"),
            .value("heldout", "F", "image folders: fraction held out when the metadata has no split column (default 0.05)"),
            .value("caption-key", "K", "image folders: the caption field (default: text, else caption)"),
            .value("min-word-count", "N", "image folders: a word enters the vocabulary if the training captions hold it N times (default 2)"),
            .value("checkpoint", "FILE", "checkpoint file (default: OUT with .checkpoint.safetensors)"),
            .value("checkpoint-every", "N", "iterations between checkpoints (default: the preset's; 0 = never)"),
            .value("resume", "CHECKPOINT", "continue the run saved in CHECKPOINT (its config and seed apply)"),
            .value("report-every", "N", "iterations between progress lines (default 10)")]
) { flags in
    let cmd = "mscm-ctl train-teacher"
    guard let outPath = flags.string("out") else { throw UsageError("\(cmd): --out is required") }
    if let stray = flags.positional.first { throw UsageError("\(cmd): unexpected argument '\(stray)'") }
    let out = URL(fileURLWithPath: outPath)
    let checkpoint = URL(fileURLWithPath: flags.string("checkpoint")
        ?? (outPath.hasSuffix(".safetensors") ? String(outPath.dropLast(12)) : outPath) + ".checkpoint.safetensors")
    let iterations = try flags.int("iterations", range: 1...100_000_000)
    let reportEvery = try flags.int("report-every", default: 10, range: 1...1_000_000)!

    let trainer: TeacherTrainer
    if let resume = flags.string("resume") {
        for name in ["preset", "resolution", "batch", "lr", "seed", "dataset", "heldout", "caption-key", "min-word-count",
                     "checkpoint-every"] where flags.has(name) {
            throw UsageError("\(cmd): --\(name) cannot change a resumed run (its checkpoint holds the config)")
        }
        trainer = try TeacherTrainer.resume(from: URL(fileURLWithPath: resume), iterations: iterations)
        print("resuming \(resume) at iteration \(trainer.iteration)/\(trainer.config.iterations)")
    } else {
        let spec = TeacherTrainingSpec(
            preset: flags.string("preset"), dataset: flags.string("dataset"), iterations: iterations,
            batch: try flags.int("batch", range: 1...65536), lr: try flags.double("lr", range: 1e-8...1),
            seed: try flags.int("seed", range: 0...Int.max).map(UInt64.init),
            checkpointEvery: try flags.int("checkpoint-every", range: 0...100_000_000),
            resolution: try flags.int("resolution", range: 16...64), heldout: try flags.double("heldout", range: 0...0.99),
            captionKey: flags.string("caption-key"), minWordCount: try flags.int("min-word-count", range: 1...1_000_000))
        let data = try spec.resolved().openData()
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
