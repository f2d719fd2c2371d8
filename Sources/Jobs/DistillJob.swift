import Foundation
import Models

/// `distill`: multistep consistency distillation (docs/algorithms.md §5) of a `teacher` artifact into
/// an S-step student with `Distiller`, stored as a `student` artifact; `--mode ct` runs
/// consistency training instead (the teacher then only supplies the initial weights).
///
/// Every `checkpoint_every` iterations the student, its EMA, AdamW's state and the iteration go
/// to the artifact store as a `distill-checkpoint` recorded in the job row; a rescued or
/// given-back attempt fetches the teacher by the sha256 in that checkpoint and resumes
/// bit-identically. A cancel or shutdown saves a checkpoint first (within one iteration).
public struct DistillJob: JobHandler {
    public static let kind = "distill"
    public static let summary = "distil a teacher into an S-step multistep consistency student; output: a student artifact"
    public static let flags: [SpecFlag] = [
        SpecFlag("teacher", .artifact(kind: TeacherTrainer.teacherKind), required: true, help: "the teacher artifact (name or sha256)"),
        SpecFlag("steps", .int(1...1024), required: true, help: "student sampling steps S"),
        SpecFlag("guidance", .double(0...100), default: 3, help: "guidance w of the teacher the student learns"),
        SpecFlag("guidance-range", .string, help: "LOW:HIGH, e.g. 0:4: one student for every w in the range (w ~ U per example, given to the student as an input; replaces --guidance)"),
        SpecFlag("teacher-steps", .int(1...1_000_000), help: "fixed teacher steps N (default 256; not with --anneal)"),
        SpecFlag("anneal", .string, help: "anneal teacher steps START:END:ITERATIONS, e.g. 64:1280:5000 (not with --teacher-steps)"),
        SpecFlag("guidance-lr-scale", .double(1e-3...1e3), help: "with --guidance-range: learning-rate multiplier of the student's guidance input MLP (default 1)"),
        SpecFlag("xvar-frac", .double(0...1), default: 0.75, help: "η: aDDIM xvar = η·‖x̂_cond − x‖²/d on the unguided prediction"),
        SpecFlag("huber", .double(0...1000), default: 1e-4, help: "pseudo-Huber c (> 0; 1e-4 ≈ Euclidean distance)"),
        SpecFlag("iterations", .int(1...10_000_000), default: 300, help: "distillation iterations"),
        SpecFlag("batch", .int(1...4096), default: 32, help: "batch size"),
        SpecFlag("lr", .double(1e-9...1), default: 2e-4, help: "peak AdamW learning rate (cosine decay to --final-lr)"),
        SpecFlag("final-lr", .double(0...1), help: "learning rate at the end of the cosine decay (default: a tenth of --lr; = --lr for a constant rate)"),
        SpecFlag("warmup", .int(0...1_000_000), help: "linear learning-rate warm-up iterations (default 20)"),
        SpecFlag("ema", .double(0...1), help: "EMA decay of the saved student weights (default 0.99; 0 saves the last weights)"),
        SpecFlag("huber-reduction", .choice(["per-example", "per-element"]), help: "pseudo-Huber over each example's whole difference (default) or per element, then averaged"),
        SpecFlag("seed", .int(0...Int(Int32.max)), default: 0, help: "seed of the data stream and every §5 draw"),
        SpecFlag("mode", .choice(DistillationMode.allCases.map(\.rawValue)), default: "cd", help: "cd (distillation) or ct (consistency training, no teacher calls)"),
        SpecFlag("checkpoint-every", .int(0...10_000_000), default: 50, help: "iterations between checkpoints (0: only when stopped)"),
        SpecFlag("name", .outputName(prefix: false), help: "artifact name of the student (default student-<job id>)"),
    ] + TrainingValidation.flags

    public init() {}

    public static func validate(spec: JSON, artifacts: ArtifactCatalog) throws {
        try validateAgainstFlags(spec: spec, artifacts: artifacts)
        _ = try config(spec)
        try TrainingValidation.check(spec, kind: kind)
        if let ref = spec["teacher"]?.string, let problem = try ModelHeader.mismatch(ref, expected: TeacherTrainer.teacherKind, artifacts: artifacts) {
            throw JobFailure.permanent("\(kind) spec: 'teacher': \(problem)")
        }
    }

    /// The spec as a validated `DistillationConfig` (the dataset is the default until the
    /// teacher is read).
    static func config(_ spec: JSON) throws -> DistillationConfig {
        func fail(_ s: String) -> JobFailure { .permanent("\(kind) spec: \(s)") }
        guard let steps = spec["steps"]?.int else { throw fail("'steps' is required") }
        var c = DistillationConfig(studentSteps: steps)
        do {
            switch (spec["teacher_steps"]?.int, spec["anneal"]?.string) {
            case (.some, .some): throw fail("give either teacher_steps (--teacher-steps) or anneal (--anneal), not both")
            case (let n?, nil): c.teacherSteps = .fixed(n)
            case (nil, let a?): c.teacherSteps = try DistillationConfig.parseAnneal(a)
            case (nil, nil): break
            }
            if let w = spec["guidance"]?.double { c.guidance = w }
            if let range = spec["guidance_range"]?.string {
                // The flag table fills in --guidance's default, so only a changed w can be caught.
                if let w = spec["guidance"]?.double, w != DistillationConfig(studentSteps: steps).guidance {
                    throw fail("give either guidance (--guidance) or guidance_range (--guidance-range), not both")
                }
                c.guidanceRange = try GuidanceRange.parse(range)
            }
            if let scale = spec["guidance_lr_scale"]?.double { c.guidanceLearningRateScale = Float(scale) }
            if let eta = spec["xvar_frac"]?.double { c.xvarFraction = eta }
            if let huber = spec["huber"]?.double { c.huberC = huber }
            if let n = spec["iterations"]?.int { c.iterations = n }
            if let b = spec["batch"]?.int { c.batchSize = b }
            if let lr = spec["lr"]?.double { c.learningRate = Float(lr); c.finalLearningRate = Float(lr) / 10 }
            if let lr = spec["final_lr"]?.double { c.finalLearningRate = Float(lr) }
            if let n = spec["warmup"]?.int { c.warmupSteps = n }
            if let decay = spec["ema"]?.double { c.emaDecay = Float(decay) }
            if let r = spec["huber_reduction"]?.string { c.huberReduction = r == "per-element" ? .perElement : .perExample }
            if let seed = spec["seed"]?.int { c.seed = UInt64(seed) }
            if let m = spec["mode"]?.string { c.mode = DistillationMode(rawValue: m) ?? c.mode }
            if let every = spec["checkpoint_every"]?.int { c.checkpointEvery = every }
            try c.validate()
        } catch let e as ModelError {
            let text = e.description
            throw fail(text.hasPrefix("distillation: ") ? String(text.dropFirst("distillation: ".count)) : text)
        }
        return c
    }

    public func run(_ ctx: JobContext) throws -> JSON {
        var config = try Self.config(ctx.spec)
        let work = try TemporaryDirectory(prefix: "distill-\(ctx.id)")
        let loop = TrainingJobLoop(ctx: ctx, kind: Self.kind, checkpoints: (work.url.appendingPathComponent("checkpoint.safetensors"), Distiller.checkpointKind))

        /// The teacher file by reference; its data set becomes the distillation data.
        func fetchTeacher(_ ref: String) throws -> (file: ModelFile, sha: String) {
            let url = work.url.appendingPathComponent("teacher.safetensors")
            let info = try ctx.getArtifact(ref, to: url)
            guard info.kind == TeacherTrainer.teacherKind else {
                throw JobFailure.permanent("distill: artifact '\(ref)' has kind \(info.kind), not \(TeacherTrainer.teacherKind)")
            }
            do {
                return (try ModelFile.load(url, expectedKind: TeacherTrainer.teacherKind), info.sha256)
            } catch {
                throw JobFailure.permanent("distill: teacher '\(ref)': \(error)")
            }
        }

        let distiller: Distiller
        if let cp = try loop.fetchCheckpoint() {
            // A folder teacher's data must be opened before the resume (the checkpoint names it by sha256).
            let first = try DistillationData.metadata(cp.file)["teacher_sha"].map { try fetchTeacher($0) }
            let data = try first.flatMap { try DistillationData.folder(teacher: $0.file, seed: config.seed, ctx: ctx, work: work.url) }
            let resumed = try Distiller.resume(from: cp.file, teacher: { sha in
                if let first, first.sha == sha { return first.file.model }
                return try fetchTeacher(sha).file.model
            }, dataset: data)
            distiller = try loop.resumed(resumed, from: cp, note: " (teacher \(resumed.teacherSHA.prefix(12)))")
            config = distiller.config
        } else {
            guard let ref = ctx.spec["teacher"]?.string else { throw JobFailure.permanent("distill spec: 'teacher' is required") }
            let (teacher, sha) = try fetchTeacher(ref)
            if let json = teacher.metadata["training"], let training = try? TeacherTrainingConfig.decode(json: json, source: ref) {
                config.dataset = training.dataset
            }
            let data = try DistillationData.folder(teacher: teacher, seed: config.seed, ctx: ctx, work: work.url)
            distiller = try Distiller(config: config, teacher: teacher.model, teacherSHA: sha,
                                      dataset: data ?? config.openDataset(resolution: teacher.model.resolution))
            ctx.log("distilling teacher \(sha.prefix(12)) (\(teacher.model.config.preset)) into a \(config.studentSteps)-step student (\(config.mode.rawValue), w \(config.guidanceRange.map { "~ U[\($0.lower), \($0.upper)]" } ?? "= \(config.guidance)")) for \(config.iterations) iterations, batch \(config.batchSize)")
        }
        let startIteration = distiller.iteration
        let name = ctx.spec["name"]?.string ?? "student-\(ctx.id)"
        /// The EMA student on the validation prompts (w = 3, or the nearest w of a range).
        var validation = ValidationRounds(
            try TrainingValidation(ctx: ctx, work: work.url, resolution: distiller.student.resolution,
                                   outputName: name, outputKind: Distiller.studentKind, keepBest: true),
            snapshot: work.url.appendingPathComponent("snapshot.safetensors"), write: distiller.writeStudent) { model, file, prompts, seed in
            let w = file.guidanceRange.map { min(max(3, $0.lower), $0.upper) } ?? 0
            return try TextToImageSampling.sample(model, prompts: prompts, seed: seed, sampler: .student, steps: config.studentSteps,
                                                  guidance: w, xvar: nil, studentSteps: file.studentSteps)
        }
        let lastLoss = try loop.run(distiller, save: distiller.saveCheckpoint) { p in
            try validation.figures(ctx: ctx, iteration: p.iteration, total: p.total)
        }

        let studentFile = work.url.appendingPathComponent("student.safetensors")
        try distiller.writeStudent(to: studentFile)
        let sha = try ctx.putCheckedArtifact(name: name, kind: Distiller.studentKind, file: studentFile)
        ctx.log("student stored as \(name) (\(sha.prefix(12)))")
        var result: [String: JSON] = ["student": .string(sha), "name": .string(name), "steps": .int(config.studentSteps),
                "guidance": config.guidanceRange == nil ? .double(config.guidance) : .null, "mode": .string(config.mode.rawValue),
                "teacher": .string(distiller.teacherSHA), "iterations": .int(distiller.iteration),
                "resumed_from": .int(startIteration), "final_loss": .double(lastLoss)]
        if let range = config.guidanceRange { result["guidance_range"] = .string(range.description) }
        return .object(result)
    }
}
