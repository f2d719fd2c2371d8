import Datasets
import Evaluation
import Formats
import Foundation
import JobQueue
import Models
import Tensors
import Training

/// Draws the pictures of one evaluate entry: loads its model from the artifact store (each
/// model once), samples every prompt under each seed with seed-matched noise, counts the
/// network evaluations and times the sampling, reporting progress after every seed.
struct EntrySampler {
    struct Drawn {
        /// [K·P, R, R, 3]: row k·P + j is prompt j under seed k.
        let images: Tensor
        /// [prompt][seed].
        let tiles: [[RGBImage]]
        let label: String
        let artifact: String
        /// The entry resolved against its model (every field set).
        let entry: EvaluationEntry
        /// The plot series — a model family: the students of one teacher (at one w and mode)
        /// across S, or one teacher's sampler across steps.
        let series: String
        /// A teacher's aDDIM run: the plot's horizontal reference line.
        let isReference: Bool
        let nfePerImage: Double
        let secondsPerImage: Double
    }

    let ctx: JobContext
    let work: TemporaryDirectory
    let resolution: Int
    let prompts: [String]
    let seeds: Int
    let firstSeed: UInt64
    let totalEntries: Int
    /// The judge's name and dataset: a model trained on other data is refused, one line.
    var evaluatorName = "evaluator"
    var evaluatorDataset = "shapes"
    /// The held-out fraction of a folder evaluator's seeded split (nil: a split column, or shapes).
    var evaluatorHeldout: Double? = nil
    private var models: [String: ModelFile] = [:]
    private let began = Clock.now

    init(ctx: JobContext, work: TemporaryDirectory, resolution: Int, prompts: [String], seeds: Int, firstSeed: UInt64,
         totalEntries: Int) {
        self.ctx = ctx; self.work = work; self.resolution = resolution; self.prompts = prompts; self.seeds = seeds
        self.firstSeed = firstSeed; self.totalEntries = totalEntries
    }

    mutating func model(_ ref: String) throws -> (file: ModelFile, info: ArtifactInfo) {
        guard let info = try ctx.artifactInfo(ref) else { throw JobFailure.permanent("evaluate: no model artifact '\(ref)'") }
        guard EvaluationEntry.modelKinds.contains(info.kind) else {
            throw JobFailure.permanent("evaluate: artifact '\(ref)' has kind \(info.kind), not teacher or student")
        }
        if let m = models[info.sha256] { return (m, info) }
        let url = work.url.appendingPathComponent("model-\(info.sha256.prefix(16)).safetensors")
        try ctx.getArtifact(info.sha256, to: url)
        let file: ModelFile
        do { file = try ModelFile.load(url) } catch { throw JobFailure.permanent("evaluate: model \(ref): \(error)") }
        let modelDataset = ModelHeader.datasetSource(file.metadata)
        guard modelDataset == evaluatorDataset else {
            throw JobFailure.permanent("evaluate: " + ModelHeader.datasetMismatch(evaluator: evaluatorName, evaluatorDataset: evaluatorDataset,
                                                                                   model: info.name, modelDataset: modelDataset))
        }
        // A teacher that held out another fraction trained on some of the judge's held-out
        // pictures (or the judge on some of its): the report would flatter it.
        if let h = evaluatorHeldout, file.kind == TeacherTrainer.teacherKind, let json = file.metadata["training"],
           let training = try? TeacherTrainingConfig.decode(json: json, source: info.name, field: "training") {
            let own = training.heldout ?? ImageFolderDataset.defaultHeldout
            guard abs(own - h) < 1e-9 else {
                throw JobFailure.permanent(String(format: "evaluate: teacher '%@' held out %g %% of the dataset, evaluator '%@' %g %%: the held-out prompts would not be the ones it never saw (train the evaluator with --heldout %g)",
                                                  info.name, 100 * own, evaluatorName, 100 * h, own))
            }
        }
        guard file.model.resolution == resolution else {
            throw JobFailure.permanent("evaluate: model \(ref) draws \(file.model.resolution)×\(file.model.resolution) pictures; the evaluator reads \(resolution)×\(resolution) (train one with --resolution \(file.model.resolution))")
        }
        models[info.sha256] = file
        return (file, info)
    }

    mutating func draw(_ written: EvaluationEntry, index: Int) throws -> Drawn {
        let (file, info) = try model(written.model)
        // A student's S and w are its file's (one convention with `sample` and `distill`).
        var student: (steps: Int, guidance: Double)? = nil
        if let s = file.studentSteps {
            do {
                student = try EvaluationEntry.studentTerms(steps: s, guidance: file.metadata["guidance"].flatMap(Double.init),
                                                           range: file.guidanceRange, written: written)
            } catch { throw JobFailure.permanent("evaluate: \(error)") }
        }
        let entry: EvaluationEntry
        do { entry = try written.resolved(student: student) } catch { throw JobFailure.permanent("evaluate: \(error)") }
        let (sampler, steps, w) = (entry.sampler!, entry.steps!, entry.guidance!)
        let label = "\(info.name) \(sampler.rawValue) \(steps) steps w=\(NumberText.plain(w))"
        let p = prompts.count, r = resolution, slot = r * r * 3
        let images = Tensor(shape: [seeds * p, r, r, 3])
        // A student has learned the guided teacher's trajectory: it samples with one conditional
        // pass per step; its w only names the teacher it learned — except a guidance-conditioned
        // student, which takes w as its input (still one pass per step).
        let guidance = student == nil || file.guidanceRange != nil ? w : 0
        let series: String
        if student != nil {
            let teacherSHA = file.metadata["teacher_sha"] ?? ""
            let known = teacherSHA.isEmpty ? nil : (try? ctx.artifactInfo(teacherSHA))?.name
            let teacher = known ?? (teacherSHA.isEmpty ? "an unknown teacher" : String(teacherSHA.prefix(12)))
            let mode = file.metadata["mode"].flatMap { $0 == "cd" ? nil : " (\($0))" } ?? ""
            series = "students\(mode) of \(teacher) w=\(NumberText.plain(w))" + (sampler == .student ? "" : ", \(sampler.rawValue)")
        } else {
            let names: [SamplerName: String] = [.ddim: "DDIM", .addim: "aDDIM", .ddpm: "DDPM"]
            series = "\(info.name) \(names[sampler] ?? sampler.rawValue) w=\(NumberText.plain(w))"
        }
        let evaluationsBefore = file.model.exampleEvaluations
        var seconds = 0.0
        for k in 0..<seeds {
            try ctx.checkCancelled()
            let start = Clock.now
            let x: Tensor
            do {
                x = try TextToImageSampling.sample(file.model, prompts: prompts, seed: firstSeed + UInt64(k), sampler: sampler,
                                                   steps: steps, guidance: guidance, xvar: file.xvar,
                                                   studentSteps: file.studentSteps)
            } catch { throw JobFailure.permanent("evaluate: entry \(entry.text): \(error)") }
            seconds += Clock.now - start
            (images.data + k * p * slot).update(from: x.data, count: p * slot)
            let done = index * seeds + k + 1, total = totalEntries * seeds
            let rate = Double(done) / max(Clock.now - began, 1e-9)
            ctx.progress(iteration: done, total: total, rate: rate, eta: Double(total - done) / max(rate, 1e-9),
                         extra: ["entry": .string("\(index + 1)/\(totalEntries) \(label), seed \(Int(firstSeed) + k)"),
                                 "unit": "seeds/s"])
        }
        let n = Double(seeds * p)
        let tiles = (0..<p).map { j in (0..<seeds).map { k in RGBImage(tensor: images.slice(k * p + j, k * p + j + 1)) } }
        return Drawn(images: images, tiles: tiles, label: label, artifact: "\(info.name) (\(info.sha256.prefix(12)))",
                     entry: entry, series: series, isReference: student == nil && sampler == .addim,
                     nfePerImage: Double(file.model.exampleEvaluations - evaluationsBefore) / n, secondsPerImage: seconds / n)
    }
}
