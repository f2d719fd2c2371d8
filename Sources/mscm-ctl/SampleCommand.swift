import CommandLineKit
import Datasets
import Foundation
import Jobs
import Models

// mscm-ctl sample: pictures from a trained model, one prompt or a prompts × seeds grid.

let sampleCommand = Command(
    name: "sample",
    summary: "Draw pictures from a model file (a prompt, or a labelled grid of prompts × seeds).",
    usage: "mscm-ctl sample --model FILE (--prompt TEXT | --prompts FILE) (--out PNG | --out-dir DIR) [--sampler ddim|addim|ddpm|student] [--steps N] [--guidance W] [--seed K] [--seeds S] [--scale X] [--columns C]",
    flags: [.value("model", "FILE", "model file (a teacher from train-teacher or a student from distill); required"),
            .value("prompt", "TEXT", "one caption"),
            .value("prompts", "FILE", "heldout or train (the built-in prompt sets), or a prompt file, one caption per line ('#' comments)"),
            .value("out", "PNG", "the picture to write (or give --out-dir)"),
            .value("out-dir", "DIR", "write one PNG per picture (named by prompt and seed) and a metadata.jsonl here instead of a grid"),
            .value("sampler", "NAME", "ddim, addim (teacher default; uses the model's xvar table), ddpm, or student (student default)"),
            .value("steps", "N", "sampling steps (default 256; for a student its own S, the only count its sampler takes)"),
            .value("guidance", "W", "classifier-free guidance w (default 3 for a teacher; a student's is the w it was distilled at, from its file)"),
            .value("seed", "K", "seed of the initial noise (default 0)"),
            .value("seeds", "S", "columns of the grid: seeds K … K+S−1 (default 1)"),
            .value("scale", "X", "enlarge each tile X times (default 4 for grids, 1 for a single picture)"),
            .value("columns", "C", "lay the grid out C tiles to a row, each captioned (default: a row per prompt, a column per seed)")]
) { flags in
    let cmd = "mscm-ctl sample"
    guard let modelPath = flags.string("model") else { throw UsageError("\(cmd): --model is required") }
    let outDir = flags.string("out-dir")
    guard let outPath = flags.string("out") ?? outDir else { throw UsageError("\(cmd): --out or --out-dir is required") }
    if outDir != nil && flags.has("out") { throw UsageError("\(cmd): give --out or --out-dir, not both") }
    if let stray = flags.positional.first { throw UsageError("\(cmd): unexpected argument '\(stray)'") }
    let prompts: [String]
    switch (flags.string("prompt"), flags.string("prompts")) {
    case let (p?, nil): prompts = [p]
    case (nil, "heldout"?): prompts = ShapesWorld.heldOutCaptions
    case (nil, "train"?): prompts = ShapesWorld.trainingCaptions
    case let (nil, file?): prompts = try PromptFiles.read(URL(fileURLWithPath: file))
    case (nil, nil): throw UsageError("\(cmd): give --prompt TEXT or --prompts FILE")
    default: throw UsageError("\(cmd): give either --prompt or --prompts, not both")
    }
    // What the file is comes from its header alone: a file of another kind (an evaluator, a
    // checkpoint) is one line saying what it is, before any decoder sees it.
    let header: ModelHeader
    do { header = try ModelHeader.read(URL(fileURLWithPath: modelPath)) } catch { throw UsageError("\(cmd): \(error)") }
    guard (ArtifactKind.models + [ArtifactKind.teacherCheckpoint]).contains(header.kind ?? "") else {
        throw UsageError("\(cmd): \(modelPath) is \(ModelHeader.describe(header.kind)); --model takes a teacher or a student")
    }
    if header.kind == ArtifactKind.student && header.student == nil {
        throw UsageError("\(cmd): \(modelPath): student file lacks a valid student_steps or guidance")
    }
    // The model decides the defaults, so it is read before the sampling flags.
    let file = try ModelFile.load(URL(fileURLWithPath: modelPath))
    warnUnknownWords(prompts, tokenizer: file.model.tokenizer, command: cmd)
    let studentSteps = header.student?.steps
    let samplerName = flags.string("sampler", default: studentSteps == nil ? "addim" : "student")
    guard let sampler = SamplerName(rawValue: samplerName) else {
        throw UsageError("\(cmd): --sampler must be ddim, addim, ddpm or student, got '\(samplerName)'")
    }
    let steps = try flags.int("steps", default: studentSteps ?? 256, range: 1...100_000)!
    let guidance = try flags.double("guidance", default: header.student?.guidance ?? 3, range: 0...100)!
    // One guidance convention (as in evaluate entries): a student's w and S are its own.
    if let s = header.student {
        let w = s.guidance.rounded() == s.guidance ? String(Int(s.guidance)) : String(s.guidance)
        if guidance != s.guidance {
            throw UsageError("\(cmd): \(modelPath) was distilled at w = \(w); a student's guidance is its own (leave --guidance out)")
        }
        if sampler == .student && steps != s.steps {
            throw UsageError("\(cmd): \(modelPath) is a \(s.steps)-step student; its sampler cannot take \(steps) steps (leave --steps out)")
        }
    }
    let seed = UInt64(try flags.int("seed", default: 0, range: 0...Int.max)!)
    let seeds = try flags.int("seeds", default: 1, range: 1...256)!
    let single = prompts.count == 1 && seeds == 1
    let scale = try flags.int("scale", default: single ? 1 : 4, range: 1...64)!
    let columns = try flags.int("columns", range: 1...1024)
    // A student learned the guided path: it samples with one conditional pass per step.
    let unguided = header.student == nil ? guidance : 0
    if let outDir {
        try writeSampleFolder(file, prompts: prompts, seed: seed, seeds: seeds, sampler: sampler, steps: steps, guidance: guidance,
                              samplingGuidance: unguided, model: modelPath, to: URL(fileURLWithPath: outDir))
        return
    }
    guard outPath.lowercased().hasSuffix(".png") else { throw UsageError("\(cmd): --out must name a .png file, got '\(outPath)'") }

    let picture: RGBImage
    if single {
        let x = try TextToImageSampling.sample(file.model, prompts: prompts, seed: seed, sampler: sampler, steps: steps,
                                               guidance: unguided, xvar: file.xvar, studentSteps: studentSteps)
        picture = RGBImage(tensor: x).upscaled(by: scale)
    } else {
        let title = "\(file.kind) '\(file.model.config.preset)', \(sampler.rawValue) \(steps) steps, w = \(guidance)"
        picture = try TextToImageSampling.grid(file.model, prompts: prompts, seed: seed, seeds: seeds, sampler: sampler,
                                               steps: steps, guidance: unguided, xvar: file.xvar, studentSteps: studentSteps,
                                               scale: scale, columns: columns,
                                               title: title)
    }
    try PNGCodec.write(picture, to: URL(fileURLWithPath: outPath))
    print("wrote \(outPath) (\(prompts.count) prompt(s) × \(seeds) seed(s), \(picture.width)×\(picture.height))")
}
