import Datasets
import Formats
import Foundation
import JobQueue
import Models
import Training

/// `train-teacher`: trains a text-to-image teacher (docs/algorithms.md §2) with `TeacherTrainer` and
/// stores it as a `teacher` artifact (EMA weights, xvar table of §4, configs).
///
/// Every `checkpoint_every` iterations the full training state goes to the artifact store as a
/// `teacher-checkpoint` and is recorded in the job row; a rescued or given-back attempt resumes
/// from it and ends bit-identical to an uninterrupted run (every draw of iteration i is a pure
/// function of (seed, i)). A cancel or shutdown saves a checkpoint first.
public struct TrainTeacherJob: JobHandler {
    public static let kind = "train-teacher"
    public static let summary = "train a teacher (UViT + text encoder) on a dataset; output: a teacher artifact"
    /// The spec: every setting declared once (key, flag, range, help, and how it sets the
    /// `TeacherTrainingSpec`, whose `resolved()` fills in the preset's defaults).
    static let fields: [SpecField<TeacherTrainingSpec>] = {
        typealias F = SpecField<TeacherTrainingSpec>
        return [
            .optional("preset", .choice(ModelConfig.presetNames), \.preset, default: "small", help: "model preset") { $0.string },
            .optional("resolution", .int(16...64), \.resolution, help: "pixels per side: 16, 32 or 64, the preset sized for it (default: the preset's)") { $0.int },
            .optional("dataset", .string, \.dataset, default: "shapes",
                      help: "'shapes' (built-in), a dataset artifact (mscm-ctl dataset import), or an image-folder path the workers can see") { $0.string },
            .optional("heldout", .double(0...0.99), \.heldout, help: "image folders: fraction held out when the metadata has no split column (default 0.05)") { $0.double },
            .optional("caption-key", .string, \.captionKey, help: "image folders given as a path: the caption field (default: text, else caption)") { $0.string },
            .optional("min-word-count", .int(1...1_000_000), \.minWordCount, help: "image folders: a word enters the learned vocabulary if the training captions hold it this often (default 2)") { $0.int },
            .optional("iterations", .int(1...10_000_000), \.iterations, help: "training iterations (default: the preset's)") { $0.int },
            .optional("batch", .int(1...4096), \.batch, help: "batch size (default: the preset's)") { $0.int },
            .optional("lr", .double(1e-7...1), \.lr, help: "peak learning rate (default: the preset's)") { $0.double },
            .optional("p-uncond", .double(0...1), \.pUncond, help: "probability of the null conditioning (default 0.1)") { $0.double },
            .optional("ema-decay", .double(0...1), \.emaDecay, help: "EMA decay (default: the preset's)") { $0.double },
            .optional("seed", .int(0...Int(Int32.max)), \.seed, default: 0, help: "seed of every random draw") { $0.int.map(UInt64.init) },
            .optional("checkpoint-every", .int(0...10_000_000), \.checkpointEvery, help: "iterations between checkpoints (default: the preset's)") { $0.int },
            F(SpecFlag("name", .outputName(prefix: false), help: "artifact name of the teacher (default teacher-<job id>)")),
        ]
    }()

    public static let flags: [SpecFlag] = fields.map(\.flag) + TrainingValidation.flags

    public init() {}

    public static func validate(spec: JSON, artifacts: ArtifactCatalog) throws {
        try validateAgainstFlags(spec: spec, artifacts: artifacts)
        let config = try trainingConfig(spec)
        try TrainingValidation.check(spec, kind: kind)
        // At submit a folder the client can see is opened now; a worker opens it when it runs.
        if case .artifact = try DatasetSource.resolve(config.dataset, artifacts: artifacts), config.captionKey != nil {
            throw JobFailure.permanent("\(kind) spec: 'caption_key' applies to a folder path; an imported dataset keeps its captions under text")
        }
        if artifacts.checksOutputNames { try DatasetSource.check(config, artifacts: artifacts) }
    }

    /// Pins an imported dataset to its sha256 (like every artifact a job reads) and makes a
    /// local path absolute.
    public static func pin(spec: JSON, artifacts: ArtifactCatalog) throws -> (spec: JSON, inputs: [PinnedInput]) {
        let (pinned, inputs) = try SpecFlag.pin(spec, table: flags, artifacts: artifacts)
        return try DatasetSource.pin(pinned, inputs: inputs, artifacts: artifacts, kind: kind)
    }

    /// The settings of the training run itself: the flags `mscm-ctl train-teacher` shares with
    /// the job (all but the output's name and validation during training).
    public static var trainingFlags: [SpecFlag] { flags.filter { $0.key != "name" && !TrainingValidation.keys.contains($0.key) } }

    /// The run a spec asks for: the preset's defaults with the spec's settings applied, validated.
    public static func trainingConfig(_ spec: JSON) throws -> TeacherTrainingConfig { try trainingSpec(spec).resolved() }

    /// The job spec as the Models module's training spec, decoded by the fields.
    static func trainingSpec(_ spec: JSON) throws -> TeacherTrainingSpec {
        try SpecField.config(spec, start: TeacherTrainingSpec(), fields: fields)
    }

    public func run(_ ctx: JobContext) throws -> JSON {
        let config = try Self.trainingConfig(ctx.spec)
        let work = try TemporaryDirectory(prefix: "train-teacher-\(ctx.id)")
        let loop = TrainingJobLoop(ctx: ctx, kind: Self.kind, checkpoints: (work.url.appendingPathComponent("checkpoint.safetensors"), TeacherTrainer.checkpointKind))

        let folder = try DatasetSource.localFolder(config.dataset, ctx: ctx, work: work.url)

        let trainer: TeacherTrainer
        var vocabulary: VocabularyReport? = nil
        if let cp = try loop.fetchCheckpoint() {
            trainer = try loop.resumed(TeacherTrainer.resume(from: cp.file, dataset: config.openDataset(folder: folder)), from: cp)
        } else {
            let data = try config.openData(folder: folder)
            trainer = try TeacherTrainer(data)
            if let v = data.vocabulary, let images = data.dataset as? ImageFolderDataset {
                vocabulary = v
                ctx.log("data: \(images.items.count) training pictures, \(images.heldoutSplit.heldoutCount) held out (\(images.heldoutSplit.source))")
                ctx.log(v.line)
            }
            ctx.log("training \(config.model.preset) (\(trainer.model.parameterCount) parameters) for \(config.iterations) iterations, batch \(config.batchSize)")
        }
        let startIteration = trainer.iteration
        // Validation draws with the EMA weights read back from a checkpoint file (DDIM 32, w = 3);
        // no best snapshot is kept, since a teacher needs its xvar table tabulated first.
        var validation = ValidationRounds(
            try TrainingValidation(ctx: ctx, work: work.url, resolution: trainer.model.resolution,
                                   outputName: ctx.spec["name"]?.string ?? "teacher-\(ctx.id)",
                                   outputKind: TeacherTrainer.teacherKind, keepBest: false),
            snapshot: work.url.appendingPathComponent("snapshot.safetensors"), write: trainer.saveCheckpoint) { model, _, prompts, seed in
            try TextToImageSampling.sample(model, prompts: prompts, seed: seed, sampler: .ddim, steps: 32, guidance: 3, xvar: nil)
        }
        let lastLoss = try loop.run(trainer, save: trainer.saveCheckpoint) { p in
            try validation.figures(ctx: ctx, iteration: p.iteration, total: p.total)
        }

        ctx.log("tabulating xvar over \(config.xvarSteps) steps and writing the teacher")
        let teacherFile = work.url.appendingPathComponent("teacher.safetensors")
        let table = try trainer.writeTeacher(to: teacherFile)
        let name = ctx.spec["name"]?.string ?? "teacher-\(ctx.id)"
        let sha = try ctx.putCheckedArtifact(name: name, kind: TeacherTrainer.teacherKind, file: teacherFile)
        ctx.log("teacher stored as \(name) (\(sha.prefix(12)))")
        let result: [String: JSON] = ["teacher": .string(sha), "name": .string(name), "preset": .string(config.model.preset),
                "iterations": .int(trainer.iteration), "resumed_from": .int(startIteration),
                "final_loss": .double(lastLoss), "xvar_steps": .int(table.values.count),
                "vocabulary_size": .int(trainer.model.tokenizer.vocabularySize)].merging(vocabularyResult(vocabulary)) { $1 }
        return .object(result)
    }

    /// The learned vocabulary's size and coverage for the job's result (a resumed attempt
    /// reports them in the first attempt's log instead).
    func vocabularyResult(_ v: VocabularyReport?) -> [String: JSON] {
        guard let v else { return [:] }
        return ["vocabulary_words": .int(v.words), "vocabulary_coverage": .double(v.coverage),
                "vocabulary_dropped": .int(v.dropped.count), "captions_cut": .int(v.captionsCut)]
    }
}
