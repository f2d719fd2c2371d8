import Diffusion
import Formats
import Foundation
import JobQueue
import Models
import Training

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
    /// A distillation with every setting at its default (S aside): the defaults of the fields.
    static let defaults = DistillationConfig(studentSteps: 1)

    /// The spec: every setting declared once — key, flag, range, help, default (the config's)
    /// and how it sets the `DistillationConfig`.
    static let fields: [SpecField<DistillationConfig>] = {
        let d = defaults
        typealias F = SpecField<DistillationConfig>
        func fail(_ s: String) -> JobFailure { .permanent("\(kind) spec: \(s)") }
        return [
            F(SpecFlag("teacher", .artifact(kind: TeacherTrainer.teacherKind), required: true, help: "the teacher artifact (name or sha256)")),
            .int("steps", \.studentSteps, 1...1024, defaults: d, required: true, help: "student sampling steps S"),
            .double("guidance", \.guidance, 0...100, defaults: d, help: "guidance w of the teacher the student learns"),
            F(SpecFlag("guidance-range", .string, help: "LOW:HIGH, e.g. 0:4: one student for every w in the range (w ~ U per example, given to the student as an input; replaces --guidance)")) { c, v, spec in
                guard let range = v.string else { return }
                // The flag table fills in --guidance's default, so only a changed w can be caught.
                if let w = spec["guidance"]?.double, w != d.guidance {
                    throw fail("give either guidance (--guidance) or guidance_range (--guidance-range), not both")
                }
                c.guidanceRange = try GuidanceRange.parse(range)
            },
            F(F.flag("teacher-steps", .int(1...1_000_000), default: d.teacherSteps.fixedSteps.map { .int($0) }, record: false,
                             help: "fixed teacher steps N (default {default}; not with --anneal)")) { c, v, spec in
                guard let n = v.int, spec["anneal"]?.string == nil else { return }
                c.teacherSteps = .fixed(n)
            },
            F(SpecFlag("anneal", .string, help: "anneal teacher steps START:END:ITERATIONS, e.g. 64:1280:5000 (not with --teacher-steps)")) { c, v, spec in
                guard let a = v.string else { return }
                if spec["teacher_steps"]?.int != nil {
                    throw fail("give either teacher_steps (--teacher-steps) or anneal (--anneal), not both")
                }
                c.teacherSteps = try DistillationConfig.parseAnneal(a)
            },
            F(SpecFlag("guidance-lr-scale", .double(1e-3...1e3), help: "with --guidance-range: learning-rate multiplier of the student's guidance input MLP (default 1)")) { c, v, _ in
                if let scale = v.double { c.guidanceLearningRateScale = Float(scale) }
            },
            .double("xvar-frac", \.xvarFraction, 0...1, defaults: d, help: "η: aDDIM xvar = η·‖x̂_cond − x‖²/d on the unguided prediction"),
            .double("huber", \.huberC, 0...1000, defaults: d, help: "pseudo-Huber c (> 0; 1e-4 ≈ Euclidean distance)"),
            // The default depends on S (DistillationConfig.defaultIterations): not filled in by the
            // flag table but by `pin`, which knows S.
            .int("iterations", \.iterations, 1...10_000_000, defaults: d, record: false,
                 help: "distillation iterations (default 300 below S = 4, max(600, 75·S) from there: 600 at 4 and 8, 1200 at 16; written into the spec at submit)"),
            .int("batch", \.batchSize, 1...4096, defaults: d, help: "batch size"),
            // Setting lr moves the cosine decay's floor with it (to lr / 10) unless final_lr is given.
            F(F.flag("lr", .double(1e-9...1), default: F.number(d.learningRate), record: true,
                             help: "peak AdamW learning rate (cosine decay to --final-lr)")) { c, v, _ in
                if let lr = v.double { c.learningRate = Float(lr); c.finalLearningRate = Float(lr) / 10 }
            },
            .float("final-lr", \.finalLearningRate, 0...1, defaults: d, record: false,
                   help: "learning rate at the end of the cosine decay (default: a tenth of --lr; = --lr for a constant rate)"),
            .int("warmup", \.warmupSteps, 0...1_000_000, defaults: d, record: false, help: "linear learning-rate warm-up iterations (default {default})"),
            .float("ema", \.emaDecay, 0...1, defaults: d, record: false,
                   help: "EMA decay of the saved student weights (default {default}; 0 saves the last weights)"),
            // The default depends on S (DistillationConfig.defaultEMATarget): `pin` writes it into
            // the spec at submit, as for iterations, since a spec without it is read as the worker's
            // default, which changed.
            F(SpecFlag("target", .choice(["current", "ema"]),
                       help: "weights behind the stop-gradient target: the student's EMA or its current weights (default ema up to S = 8, current above; written into the spec at submit)")) { c, v, _ in
                if let target = v.string { c.emaTarget = target == "ema" ? true : nil }
            },
            F(SpecFlag("ema-warmup", .choice(["on", "off"]), help: "warm the EMA decay up as min(D, (1 + i)/(10 + i)) (default on) or decay at D from the first iteration")) { c, v, _ in
                if v.string == "off" { c.emaWarmup = false }
            },
            F(SpecFlag("huber-reduction", .choice(HuberReduction.flagNames), help: "pseudo-Huber over each example's whole difference (default) or per element, then averaged")) { c, v, _ in
                if let r = v.string { c.huberReduction = HuberReduction(flagName: r) }
            },
            F(SpecFlag("loss-weighting", .choice(ConsistencyLossWeighting.allCases.map(\.rawValue)),
                       help: "the space of the consistency difference: v (÷ σ_t, weight SNR + 1; default) or x (weight 1)")) { c, v, _ in
                if v.string == "x" { c.lossWeighting = .x }
            },
            F(SpecFlag("dropout", .double(0...0.9), help: "dropout probability in the student while it distils (default 0: off); the target and gradient passes share the masks")) { c, v, _ in
                if let p = v.double, p > 0 { c.dropout = Float(p) }
            },
            F(F.flag("seed", .int(0...Int(Int32.max)), default: .int(Int(d.seed)), record: true,
                             help: "seed of the data stream and every §5 draw")) { c, v, _ in
                if let seed = v.int { c.seed = UInt64(seed) }
            },
            .choice("mode", \.mode, DistillationMode.allCases, defaults: d, help: "cd (distillation) or ct (consistency training, no teacher calls)"),
            .int("checkpoint-every", \.checkpointEvery, 0...10_000_000, defaults: d, help: "iterations between checkpoints (0: only when stopped)"),
            F(SpecFlag("name", .outputName(prefix: false), help: "artifact name of the student (default student-<job id>)")),
        ]
    }()

    public static let flags: [SpecFlag] = fields.map(\.flag) + TrainingValidation.flags

    public init() {}

    public static func validate(spec: JSON, artifacts: ArtifactCatalog) throws {
        try validateAgainstFlags(spec: spec, artifacts: artifacts)
        _ = try config(spec)
        try TrainingValidation.check(spec, kind: kind)
        if let ref = spec["teacher"]?.string, let problem = try ModelHeader.mismatch(ref, expected: TeacherTrainer.teacherKind, artifacts: artifacts) {
            throw JobFailure.permanent("\(kind) spec: 'teacher': \(problem)")
        }
    }

    /// Pins the teacher, and writes into a spec every default it leaves out — the recorded ones
    /// of the flag table (as the command line does), and the run length and stop-gradient target
    /// that follow S (`DistillationConfig.defaultIterations`, `defaultEMATarget`): a job's spec
    /// says everything, so a worker of another version — whose defaults may differ — runs the
    /// same recipe.
    public static func pin(spec: JSON, artifacts: ArtifactCatalog) throws -> (spec: JSON, inputs: [PinnedInput]) {
        var pinned = try SpecFlag.pin(spec, table: flags, artifacts: artifacts)
        guard case .object(var fields) = pinned.spec else { return pinned }
        for flag in flags where fields[flag.key] == nil {
            if let value = flag.defaultValue { fields[flag.key] = value }
        }
        if let s = fields["steps"]?.int {
            if fields["iterations"] == nil { fields["iterations"] = .int(DistillationConfig.defaultIterations(studentSteps: s)) }
            if fields["target"] == nil { fields["target"] = .string(DistillationConfig.defaultEMATarget(studentSteps: s) ? "ema" : "current") }
        }
        pinned.spec = .object(fields)
        return pinned
    }

    /// The spec as a validated `DistillationConfig` (the dataset is the default until the
    /// teacher is read).
    static func config(_ spec: JSON) throws -> DistillationConfig {
        guard let steps = spec["steps"]?.int else { throw JobFailure.permanent("\(kind) spec: 'steps' is required") }
        do {
            let c = try SpecField.config(spec, start: DistillationConfig(studentSteps: steps), fields: fields)
            try c.validate()
            return c
        } catch let e as ModelError {
            let text = e.description
            throw JobFailure.permanent("\(kind) spec: " + (text.hasPrefix("distillation: ") ? String(text.dropFirst("distillation: ".count)) : text))
        }
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

extension HuberReduction {
    /// The `--huber-reduction` spellings.
    static let flagNames = ["per-example", "per-element"]
    init(flagName: String) { self = flagName == "per-element" ? .perElement : .perExample }
}

extension TeacherStepSchedule {
    /// N of a fixed schedule, nil for an annealed one.
    var fixedSteps: Int? {
        if case .fixed(let n) = self { return n }
        return nil
    }
}
