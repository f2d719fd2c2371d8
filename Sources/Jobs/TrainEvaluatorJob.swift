import Datasets
import Evaluation
import Formats
import Foundation
import JobQueue
import Models
import Training

/// `train-evaluator`: trains the judge of the evaluate job — the attribute classifier whose
/// penultimate layer is the FID feature space, and the shapes-world CLIP for CLIP scores
/// (`EvaluatorTrainer`) — measures its quality on fresh renders of the held-out prompts and
/// stores it as an `evaluator` artifact.
///
/// With `--dataset` other than shapes (an imported dataset, pinned to its sha256 at submit, or a
/// folder path, as for `train-teacher`) it trains a folder evaluator on the dataset's training
/// split: the CLIP alone, over a vocabulary learned from the training captions; its image
/// tower's features are the FID/KID space (see `Evaluator`).
///
/// The run is short (about two minutes by default), so it keeps no checkpoints: a rescued
/// attempt starts again from iteration 0 and, every draw being a pure function of the seed,
/// ends with the same evaluator.
public struct TrainEvaluatorJob: JobHandler {
    public static let kind = "train-evaluator"
    public static let summary = "train the evaluator on a dataset (shapes: attribute classifier for FID + CLIP; a folder: CLIP, FID in its image tower); output: an evaluator artifact"
    /// The spec: every setting declared once (key, flag, range, help, default — the
    /// `EvaluatorConfig`'s own — and how it sets the config).
    static let fields: [SpecField<EvaluatorConfig>] = {
        let d = EvaluatorConfig()
        typealias F = SpecField<EvaluatorConfig>
        return [
            F(SpecFlag("dataset", .string, default: "shapes",
                       help: "'shapes' (built-in), a dataset artifact (mscm-ctl dataset import), or an image-folder path the workers can see")),
            F(SpecFlag("heldout", .double(0...0.99), help: "image folders: fraction held out when the metadata has no split column (default 0.05, as train-teacher)")),
            F(SpecFlag("min-word-count", .int(1...1_000_000), help: "image folders: a word enters the learned vocabulary if the training captions hold it this often (default 2)")),
            .int("resolution", \.resolution, 16...32, defaults: d, help: "picture size the evaluator reads: 16 or 32 (the models' resolution)"),
            .int("iterations", \.iterations, 1...1_000_000, defaults: d, help: "training iterations"),
            .int("batch", \.batchSize, 2...1050, defaults: d, help: "distinct scenes per batch"),
            F(F.flag("seed", .int(0...Int(Int32.max)), default: .int(Int(d.seed)), record: true, help: "seed of every random draw")) { c, v, _ in
                if let s = v.int { c.seed = UInt64(s) }
            },
            F(SpecFlag("name", .outputName(prefix: false), help: "artifact name of the evaluator (default evaluator-<job id>)")),
        ]
    }()

    public static let flags: [SpecFlag] = fields.map(\.flag)

    public init() {}

    public static func validate(spec: JSON, artifacts: ArtifactCatalog) throws {
        try validateAgainstFlags(spec: spec, artifacts: artifacts)
        do { try config(spec).validate() } catch { throw JobFailure.permanent("\(kind) spec: \(error)") }
        let dataset = spec["dataset"]?.string ?? "shapes"
        switch try DatasetSource.resolve(dataset, artifacts: artifacts, kind: kind) {
        case .shapes:
            if spec["heldout"] != nil || spec["min_word_count"] != nil {
                throw JobFailure.permanent("\(kind) spec: 'heldout' and 'min_word_count' apply to image-folder datasets, not the shapes world")
            }
        case .path(let path) where artifacts.checksOutputNames && FileManager.default.fileExists(atPath: path):
            // A folder this machine sees is opened now, as train-teacher does: the worker's
            // errors (a bad line, a corrupt PNG, an empty split) at submit, not minutes later.
            do {
                _ = try ImageFolderDataset(directory: URL(fileURLWithPath: path), resolution: config(spec).resolution, split: .train,
                                           heldout: spec["heldout"]?.double ?? ImageFolderDataset.defaultHeldout)
            } catch { throw JobFailure.permanent("\(kind) spec: 'dataset': \(error)") }
        default: break
        }
    }

    /// Pins an imported dataset to its sha256, as train-teacher does: the evaluator records it,
    /// and evaluate compares it with the dataset the models record.
    public static func pin(spec: JSON, artifacts: ArtifactCatalog) throws -> (spec: JSON, inputs: [PinnedInput]) {
        let (pinned, inputs) = try SpecFlag.pin(spec, table: flags, artifacts: artifacts)
        return try DatasetSource.pin(pinned, inputs: inputs, artifacts: artifacts, kind: kind)
    }

    static func config(_ spec: JSON) throws -> EvaluatorConfig {
        var c = try SpecField.config(spec, start: EvaluatorConfig(), fields: fields)
        c.warmupIterations = min(c.warmupIterations, max(c.iterations / 10, 1))
        return c
    }

    public func run(_ ctx: JobContext) throws -> JSON {
        var config = try Self.config(ctx.spec)
        let work = try TemporaryDirectory(prefix: "train-evaluator-\(ctx.id)")
        let source = ctx.spec["dataset"]?.string ?? "shapes"
        let trainer: EvaluatorTrainer
        var qualityGroups: (groups: CaptionGroups, split: String)? = nil
        if let folder = try DatasetSource.localFolder(source, ctx: ctx, work: work.url, kind: Self.kind) {
            let heldout = ctx.spec["heldout"]?.double ?? ImageFolderDataset.defaultHeldout
            let train: ImageFolderDataset, held: ImageFolderDataset?
            do {
                train = try ImageFolderDataset(directory: folder, resolution: config.resolution, seed: config.seed, split: .train, heldout: heldout)
                held = train.heldoutSplit.heldoutCount == 0 ? nil
                    : try ImageFolderDataset(directory: folder, resolution: config.resolution, seed: config.seed, split: .heldout, heldout: heldout)
            } catch { throw JobFailure.permanent("\(Self.kind): \(error)") }
            let (tokenizer, vocabulary) = Tokenizer.learn(from: train.items.map(\.caption),
                                                          minCount: ctx.spec["min_word_count"]?.int ?? Tokenizer.defaultMinWordCount,
                                                          maxLength: config.text.maxLength)
            config.text.vocabularySize = tokenizer.vocabularySize
            let name = try ctx.artifactInfo(source)?.name ?? URL(fileURLWithPath: source).lastPathComponent
            let dataset = EvaluatorDataset(source: source, name: name, heldout: heldout)
            let groups = CaptionGroups(train.items)
            do { trainer = try EvaluatorTrainer(config: config, folder: groups, tokenizer: tokenizer, dataset: dataset) } catch {
                throw JobFailure.permanent("\(Self.kind): \(error)")
            }
            ctx.log("data: \(train.items.count) training pictures of \(groups.captions.count) captions, \(train.heldoutSplit.heldoutCount) held out (\(train.heldoutSplit.source))")
            ctx.log(vocabulary.line)
            // Retrieval on pictures training never saw when the held-out split has captions to
            // choose among; else on the training split (said so in the quality line).
            let heldGroups = held.map { CaptionGroups($0.items) }
            qualityGroups = heldGroups.map { $0.captions.count >= 2 } == true ? (heldGroups!, "held-out") : (groups, "training")
        } else {
            trainer = try EvaluatorTrainer(config: config)
        }
        ctx.log("training the evaluator on \(trainer.evaluator.dataset.description) (\(trainer.evaluator.parameterCount) parameters, \(config.resolution)×\(config.resolution)) for \(config.iterations) iterations of \(trainer.examplesPerIteration) \(qualityGroups == nil ? "scenes" : "distinct captions")")
        let loop = TrainingJobLoop(ctx: ctx, kind: Self.kind, checkpoints: nil)
        _ = try loop.run(trainer, save: nil) { _ in
            guard let r = trainer.lastStep else { return [:] }
            return ["clip_loss": .double(Double(r.clipLoss)), "clip_batch_accuracy": .double(r.clipAccuracy)]
        }
        let last = trainer.lastStep
        ctx.log(qualityGroups == nil ? "measuring quality on fresh renders of the held-out prompts"
                                      : "measuring text→image retrieval on the \(qualityGroups!.split) split")
        let quality = try trainer.measureQuality(groups: qualityGroups?.groups, split: qualityGroups?.split ?? "held-out")
        ctx.log("evaluator quality: \(quality.summary)")

        let file = work.url.appendingPathComponent("evaluator.safetensors")
        try EvaluatorFile.write(trainer.evaluator, to: file)
        let name = ctx.spec["name"]?.string ?? "evaluator-\(ctx.id)"
        let sha = try ctx.putCheckedArtifact(name: name, kind: EvaluatorFile.kind, file: file)
        ctx.log("evaluator stored as \(name) (\(sha.prefix(12)))")
        var accuracy: [String: JSON] = [:]
        for (k, v) in quality.attributeAccuracy { accuracy[k] = .double(v) }
        return ["evaluator": .string(sha), "name": .string(name), "iterations": .int(trainer.iteration),
                "dataset": .string(trainer.evaluator.dataset.source), "dataset_name": .string(trainer.evaluator.dataset.name),
                "final_classifier_loss": last.map { $0.classifierLoss.isNaN ? .null : .double(Double($0.classifierLoss)) } ?? .null,
                "final_clip_loss": .double(Double(last?.clipLoss ?? .nan)),
                "feature_extractor": .string(trainer.evaluator.featureExtractor),
                "embedding_model": .string(trainer.evaluator.embeddingModel),
                "attribute_accuracy": .object(accuracy), "all_attributes_accuracy": quality.allAttributes.map { .double($0) } ?? .null,
                "retrieval_top1": .double(quality.retrievalTop1)]
    }
}
