import Datasets
import Evaluation
import Formats
import Foundation
import JobQueue
import Models
import Tensors
import Training

/// `evaluate`: scores teachers and students on the held-out prompts (docs/algorithms.md §7).
///
/// The evaluator decides the data: a shapes-world evaluator judges with rendered references
/// (below); an evaluator trained on an image folder takes the prompts from that dataset's
/// held-out (or training) split and compares with that split's real pictures, scores no
/// attributes, and refuses — one line, at submit when the headers are readable, else when a
/// model is loaded — models whose recorded dataset is not its own.
///
/// For each entry (model, sampler, steps, guidance) it draws every prompt under seeds
/// seed … seed+K−1 — prompt j under seed k starts from `Sampling.initialNoise(seed: k, sample: j)`
/// in every entry (§6 seed matching) — and measures, with the evaluator artifact as the judge:
/// FID against real renders of the same prompts (the feature space is named), CLIP score,
/// attribute accuracy, NFE per image (counted) and seconds per image (wall clock). It writes
/// metrics JSON, one seed-matched grid per prompt (rows = real renders then the entries,
/// columns = seeds) and an HTML report with the table and an FID-against-steps plot, as
/// artifacts named `<name>-<job id>/<file>` (kinds report-html, report-metrics, report-plot,
/// report-grid) and into `.mscm/reports/<job id>/` under the project directory.
public struct EvaluateJob: JobHandler {
    public static let kind = "evaluate"
    public static let summary = "evaluate models (FID, KID, CLIP score, attribute accuracy on shapes, NFE, s/image) on held-out prompts of the evaluator's dataset; output: a report"
    public static let flags: [SpecFlag] = [
        SpecFlag("evaluator", .string, required: true, help: "the evaluator artifact (name or sha256, kind evaluator)"),
        SpecFlag("entries", .strings, required: true,
                 help: "MODEL:SAMPLER:STEPS:GUIDANCE[,…]; MODEL a teacher or student artifact, SAMPLER one of \(SamplerName.allCases.map(\.rawValue).joined(separator: "|")); a student's S and w come from its file and may be left out (student-7)"),
        SpecFlag("seeds", .int(1...64), default: 8, help: "seeds per prompt (the grids' columns); 8 × 40 held-out prompts = 320 pictures an entry"),
        SpecFlag("seed", .int(0...Int(Int32.max)), default: 0, help: "the first seed"),
        SpecFlag("prompts", .string, default: "heldout", help: "heldout, train, or a prompt file on the worker (captions of the shapes grammar); with an evaluator trained on an image folder: that dataset's heldout or train split (its captions, and its real pictures as the FID reference)"),
        SpecFlag("name", .outputName(prefix: true), help: "report name; artifacts are named <name>-<job id>/… (default: the schedule's name, else report)"),
    ]

    public init() {}

    /// Everything wrong with the spec, one line per violation, before anything is written.
    public static func validate(spec: JSON, artifacts: ArtifactCatalog) throws {
        var problems: [String] = []
        do { try validateAgainstFlags(spec: spec, artifacts: artifacts) } catch { problems.append("\(error)") }
        func fail(_ s: String) { problems.append("\(kind) spec: \(s)") }
        var evaluatorHeader: (name: String, header: ModelHeader)? = nil
        if let ref = spec["evaluator"]?.string, !ref.isEmpty {
            switch try artifacts.lookup(ref) {
            case .missing(let why): fail("'evaluator': \(why)")
            case .found(let info) where info.kind != EvaluatorFile.kind:
                fail("'evaluator': artifact '\(ref)' has kind \(info.kind), not \(EvaluatorFile.kind)")
            case .found(let info):
                if let problem = try ModelHeader.mismatch(ref, expected: EvaluatorFile.kind, artifacts: artifacts) { fail("'evaluator': \(problem)") }
                else if let source = artifacts as? ModelHeaderSource, let header = try? source.modelHeader(info) {
                    evaluatorHeader = (info.name, header)
                    // A folder evaluator's references are its dataset's real pictures: only its splits have them.
                    if header.datasetSource != "shapes", let p = spec["prompts"]?.string, !["heldout", "train"].contains(p) {
                        fail("'prompts': evaluator '\(info.name)' was trained on an image folder: prompts must be heldout or train (that dataset's split, whose real pictures are the FID reference)")
                    }
                }
            case .pending: break  // job:N — checked when the job runs, after N succeeded
            }
        }
        for text in spec["entries"]?.array?.compactMap(\.string) ?? [] {
            switch EvaluationEntry.parse(text) {
            case .failure(let e): e.lines.forEach(fail)
            case .success(let entry):
                switch try artifacts.lookup(entry.model) {
                case .missing(let why):
                    fail("entry '\(text)': " + (why.hasPrefix("no artifact") ? "no model artifact '\(entry.model)' (see mscm-ctl artifacts list)" : why))
                case .pending: break  // job:N — its S and w are checked when the job runs
                case .found(let info) where !EvaluationEntry.modelKinds.contains(info.kind):
                    fail("entry '\(text)': artifact '\(entry.model)' has kind \(info.kind), not teacher or student")
                case .found(let info):
                    // The entry against the file: a student's S and w are in its header, so a
                    // contradiction is refused here (and at `schedule add`), not every period at run time.
                    do { _ = try resolve(entry, info: info, artifacts: artifacts) } catch { "\(error)".split(separator: "\n").forEach { fail(String($0)) } }
                    // A judge trained on other data than the model is refused now when both
                    // headers are readable (else when the job loads the model).
                    if let (name, e) = evaluatorHeader, let source = artifacts as? ModelHeaderSource,
                       let header = try? source.modelHeader(info), header.datasetSource != e.datasetSource {
                        fail(ModelHeader.datasetMismatch(evaluator: name, evaluatorDataset: e.datasetSource, model: info.name,
                                                         modelDataset: header.datasetSource))
                    }
                }
            }
        }
        if !problems.isEmpty { throw JobFailure.permanent(problems.joined(separator: "\n")) }
    }

    /// The entry with its fields filled in and checked against the model (see
    /// `EvaluationEntry.resolved`). A student's S and w are read from its file's header when the
    /// catalog can read files; a catalog that cannot leaves student entries to the job.
    static func resolve(_ entry: EvaluationEntry, info: ArtifactInfo, artifacts: ArtifactCatalog) throws -> EvaluationEntry? {
        guard info.kind == Distiller.studentKind else {
            if let problem = try ModelHeader.mismatch(entry.model, expected: info.kind, artifacts: artifacts) {
                throw EvaluationEntry.EntryErrors(["entry '\(entry.written)': \(problem)"])
            }
            return try entry.resolved(student: nil)
        }
        guard let source = artifacts as? ModelHeaderSource else { return nil }
        let header = try source.modelHeader(info)
        guard header.kind == Distiller.studentKind else {
            throw EvaluationEntry.EntryErrors(["entry '\(entry.written)': artifact '\(entry.model)' is stored as a student but its file is \(ModelHeader.describe(header.kind))"])
        }
        guard let steps = header.studentSteps, header.student != nil || header.guidanceRange != nil else {
            throw EvaluationEntry.EntryErrors(["entry '\(entry.written)': student '\(entry.model)' records no valid student_steps and guidance"])
        }
        let student = try EvaluationEntry.studentTerms(steps: steps, guidance: header.student?.guidance,
                                                       range: header.guidanceRange, written: entry)
        return try entry.resolved(student: student)
    }

    /// Pins the evaluator and every entry's model (the MODEL part of each entry is rewritten
    /// to the sha256 it names now; a `job:N` of an unfinished job stays, and the job waits for N).
    public static func pin(spec: JSON, artifacts: ArtifactCatalog) throws -> (spec: JSON, inputs: [PinnedInput]) {
        guard var o = spec.object else { return (spec, []) }
        var inputs: [PinnedInput] = []
        func resolve(_ ref: String, key: String) throws -> String {
            let (pinned, input) = try SpecFlag.pinReference(ref, key: key, artifacts: artifacts)
            inputs.append(input)
            return pinned
        }
        if let ref = o["evaluator"]?.string { o["evaluator"] = .string(try resolve(ref, key: "evaluator")) }
        if let entries = o["entries"]?.array {
            o["entries"] = .array(try entries.enumerated().map { i, e in
                guard let text = e.string, case .success(let entry) = EvaluationEntry.parse(text), text.hasPrefix(entry.model) else { return e }
                return .string(try resolve(entry.model, key: "entries[\(i)]") + text.dropFirst(entry.model.count))
            })
        }
        return (.object(o), inputs)
    }

    public func run(_ ctx: JobContext) throws -> JSON {
        let spec = ctx.spec
        let entries = try (spec["entries"]?.array ?? []).map { j -> EvaluationEntry in
            switch EvaluationEntry.parse(j.string ?? "") {
            case .success(let e): return e
            case .failure(let e): throw JobFailure.permanent(e.lines.joined(separator: "\n"))
            }
        }
        let seeds = spec["seeds"]?.int ?? 8, firstSeed = UInt64(spec["seed"]?.int ?? 0)
        // A scheduled evaluation is named after its schedule, so its reports form one series.
        let series = spec["name"]?.string ?? ctx.job.scheduleName ?? "report"
        let reportName = "\(series)-\(ctx.id)"
        let work = try TemporaryDirectory(prefix: "evaluate-\(ctx.id)")

        // The judge.
        guard let evaluatorRef = spec["evaluator"]?.string, let evaluatorInfo = try ctx.artifactInfo(evaluatorRef) else {
            throw JobFailure.permanent("evaluate: no evaluator artifact '\(spec["evaluator"]?.string ?? "")'")
        }
        let evaluatorFile = work.url.appendingPathComponent("evaluator.safetensors")
        try ctx.getArtifact(evaluatorInfo.sha256, to: evaluatorFile)
        let evaluator: Evaluator
        do { evaluator = try EvaluatorFile.load(evaluatorFile) } catch { throw JobFailure.permanent("evaluate: evaluator \(evaluatorRef): \(error)") }
        let extractor = "\(evaluator.featureExtractor), evaluator \(evaluatorInfo.sha256.prefix(12))"
        let embeddingModel = "\(evaluator.embeddingModel), evaluator \(evaluatorInfo.sha256.prefix(12))"

        // Prompts and the reference side of the FID: on the shapes world, fresh renders of the
        // prompts; on a folder, the real pictures of the split the prompts come from.
        let r = evaluator.resolution
        let prompts: [String], scenes: [SceneLabels]?, reference: Tensor, realRows: [[RGBImage]]
        var evaluatorHeldout: Double? = nil
        if evaluator.dataset.isShapes {
            let shapesPrompts = try Self.prompts(spec["prompts"]?.string ?? "heldout")
            let shapesScenes = try shapesPrompts.map { p -> SceneLabels in
                do { return try Caption.parse(p) } catch { throw JobFailure.permanent("evaluate: \(error)") }
            }
            let perPrompt = max(seeds, (1000 + shapesPrompts.count - 1) / shapesPrompts.count)
            ctx.log("rendering \(perPrompt * shapesPrompts.count) reference pictures of \(shapesPrompts.count) prompts")
            let renders = ReferenceRenders.render(shapesScenes, perPrompt: perPrompt, resolution: r, seed: Self.referenceSeed ^ firstSeed)
            (prompts, scenes, reference) = (shapesPrompts, shapesScenes, renders)
            realRows = (0..<prompts.count).map { j in (0..<seeds).map { k in RGBImage(tensor: renders.slice(k * prompts.count + j, k * prompts.count + j + 1)) } }
        } else {
            let (groups, splitColumn) = try Self.folderSplit(spec["prompts"]?.string ?? "heldout", evaluator: evaluator, ctx: ctx, work: work.url)
            ctx.log("prompts: the \(groups.captions.count) captions of the dataset's \(spec["prompts"]?.string ?? "heldout") split; reference: its \(groups.count) real pictures")
            (prompts, scenes, reference) = (groups.captions, nil, groups.tensor(Array(0..<groups.count), resolution: r))
            // The grids' real row: a caption's own pictures, as many as there are seeds (cycled when fewer).
            realRows = groups.members.map { m in (0..<seeds).map { k in groups.images[m[k % m.count]] } }
            // A seeded fraction (no split column) is the same split for teacher and judge only
            // at the same fraction.
            if !splitColumn { evaluatorHeldout = evaluator.dataset.heldout }
        }
        var sampler = EntrySampler(ctx: ctx, work: work, resolution: r, prompts: prompts, seeds: seeds, firstSeed: firstSeed,
                                   totalEntries: entries.count)
        sampler.evaluatorName = evaluatorInfo.name
        sampler.evaluatorDataset = evaluator.dataset.source
        sampler.evaluatorHeldout = evaluatorHeldout
        let referenceFeatures = try evaluator.features(reference)
        let referenceStats = try FeatureStatistics(features: referenceFeatures, extractor: extractor)
        var statistics: [(path: String, stats: FeatureStatistics)] = [("stats/real.npz", referenceStats)]

        var metrics: [EvaluationMetrics] = []
        var references: Set<String> = []
        var pictures: [[[RGBImage]]] = []  // [entry][prompt][seed]
        var drawnModels: [(name: String, job: Int64?)] = []
        for (i, entry) in entries.enumerated() {
            let drawn = try sampler.draw(entry, index: i)
            if let info = try ctx.artifactInfo(entry.model) { drawnModels.append((info.name, info.job)) }
            if drawn.isReference { references.insert(drawn.series) }
            let rows = scenes.map { s in Array(0..<seeds).flatMap { _ in s } }
            let allPrompts = Array(0..<seeds).flatMap { _ in prompts }
            let scores = try GeneratedSetScores.compute(evaluator, images: drawn.images, prompts: allPrompts, scenes: rows,
                                                        reference: referenceStats, extractor: extractor, embeddingModel: embeddingModel,
                                                        referenceFeatures: referenceFeatures, kidSeed: firstSeed)
            var m = EvaluationMetrics(model: drawn.label, artifact: drawn.artifact, kind: drawn.series,
                                      sampler: drawn.entry.sampler!.rawValue, steps: drawn.entry.steps!, guidance: drawn.entry.guidance!,
                                      nfePerImage: drawn.nfePerImage, secondsPerImage: drawn.secondsPerImage)
            m.record(fid: scores.fid)
            statistics.append((String(format: "stats/entry-%02d.npz", i + 1), try FeatureStatistics(features: scores.features, extractor: extractor)))
            // KID beside the FID (unbiased at these sample counts), and the seed-to-seed spread
            // of both, so that "better than" and "within 10 %" are read against the noise.
            if let kid = scores.kid { m.record(kid: kid) }
            // (One prompt — a folder's held-out split may hold a single caption — leaves each
            // seed one picture: no FID of its own.)
            if seeds >= 2, prompts.count >= 2, let noise = try? SeedNoise.estimate(features: scores.features, seeds: seeds, reference: referenceFeatures,
                                                               extractor: extractor, seed: firstSeed) { m.record(seedNoise: noise) }
            m.record(clip: scores.clip)
            m.attributeAccuracy = scores.attributeAccuracy
            m.attributeAccuracyByAttribute = scores.perAttribute
            metrics.append(m)
            pictures.append(drawn.tiles)
            ctx.log(String(format: "%@: FID %.2f (seed std %.1f), KID %.4f ± %.4f, CLIP score %.2f, attribute accuracy %@, NFE/image %g, %.3g s/image",
                           drawn.label as NSString, scores.fid.distance, m.fidSeedStd ?? .nan, m.kid ?? .nan, m.kidStd ?? .nan,
                           scores.clip.score, (scores.attributeAccuracy.map { String(format: "%.1f%%", 100 * $0) } ?? "—") as NSString,
                           drawn.nfePerImage, drawn.secondsPerImage))
        }

        var report = EvaluationReport(
            name: reportName, jobID: ctx.id, prompts: prompts, seeds: (0..<seeds).map { firstSeed + UInt64($0) },
            metrics: MetricsDocument(title: "mscm evaluation \(reportName)", entries: metrics),
            entryLabels: metrics.map(\.model), referenceKinds: references, pictures: pictures, realPictures: realRows,
            notes: Self.notes(evaluator: evaluator, evaluatorName: evaluatorInfo.name, prompts: prompts.count, seeds: seeds,
                              referenceCount: reference.shape[0]))
        report.series = series
        report.statistics = statistics
        // Each evaluated model made by a job with a history (loss, validation figures) gets its curves.
        var seen: Set<Int64> = []
        for drawn in drawnModels {
            guard let job = drawn.job, seen.insert(job).inserted, let history = try? ctx.history(of: job), !history.isEmpty else { continue }
            report.curves += EvaluationReport.trainingCurves(model: drawn.name, job: job, history: history)
        }
        report.previous = EvaluationReport.previous(series: series, before: ctx.id, ctx: ctx)
        let published = try report.publish(ctx: ctx, scratch: work.url)

        return ["report": .string(reportName), "report_dir": published.localDirectory.map { .string($0.path) } ?? .null,
                "artifacts": .array(published.artifacts.map { .string($0) }),
                "feature_extractor": .string(extractor), "embedding_model": .string(embeddingModel),
                "evaluator_dataset": .string(evaluator.dataset.source),
                "entries": .array(metrics.map { m in
                    func num(_ v: Double?) -> JSON { v.map { $0.isFinite ? .double($0) : .null } ?? .null }
                    return ["model": .string(m.model), "fid": num(m.fid), "clip_score": num(m.clipScore),
                            "kid": num(m.kid), "kid_std": num(m.kidStd), "fid_seed_std": num(m.fidSeedStd), "kid_seed_std": num(m.kidSeedStd),
                            "attribute_accuracy": num(m.attributeAccuracy), "nfe_per_image": num(m.nfePerImage),
                            "seconds_per_image": num(m.secondsPerImage)]
                })]
    }

    /// Key of the reference renders' jitter (xored with the first seed): a stream no training
    /// run draws from.
    static let referenceSeed: UInt64 = 0x5245_4645_5245_4E43

    static func prompts(_ choice: String) throws -> [String] {
        switch choice {
        case "heldout": return ShapesWorld.heldOutCaptions
        case "train": return ShapesWorld.trainingCaptions
        default:
            do { return try PromptFiles.read(URL(fileURLWithPath: choice), grammarOnly: true) } catch {
                throw JobFailure.permanent("evaluate: prompts: \(error)")
            }
        }
    }

    /// The split of a folder evaluator's dataset that `--prompts` names (heldout: the split the
    /// models never saw; train), grouped by caption, at the evaluator's resolution.
    static func folderSplit(_ choice: String, evaluator: Evaluator, ctx: JobContext, work: URL) throws -> (CaptionGroups, splitColumn: Bool) {
        let split: ImageFolderSplit
        switch choice {
        case "heldout": split = .heldout
        case "train": split = .train
        default:
            throw JobFailure.permanent("evaluate: prompts: the evaluator was trained on \(evaluator.dataset.description): --prompts must be heldout or train (its real pictures are the FID's reference)")
        }
        guard let folder = try DatasetSource.localFolder(evaluator.dataset.source, ctx: ctx, work: work, kind: kind) else {
            throw JobFailure.permanent("evaluate: the evaluator names no image folder")
        }
        do {
            let data = try ImageFolderDataset(directory: folder, resolution: evaluator.resolution, split: split, heldout: evaluator.dataset.heldout)
            return (CaptionGroups(data.items), data.heldoutSplit.source == "split column")
        } catch { throw JobFailure.permanent("evaluate: dataset \(evaluator.dataset.description): \(error)") }
    }

    static func notes(evaluator: Evaluator, evaluatorName: String, prompts: Int, seeds: Int, referenceCount: Int) -> [String] {
        guard evaluator.dataset.isShapes else {
            var n = ["Evaluator \(evaluatorName), trained on dataset \(evaluator.dataset.description); prompts are captions of its split, \(prompts) prompts × \(seeds) seeds per entry, seed-matched.",
                     "FID: Fréchet distance between the evaluator's image embeddings (×√E) of the generated pictures and of the \(referenceCount) real pictures of that split.",
                     "KID: unbiased MMD² with the cubic kernel in the same features, mean ± standard deviation over 100 seeded subsets.",
                     "CLIP score: max(mean 100·cos(image, prompt), 0) in the evaluator's joint space, trained on that dataset.",
                     "Attribute accuracy: — (the dataset has no attributes to read).",
                     "NFE / image: network evaluations per picture, counted (a guided step runs both branches: 2)."]
            if let q = evaluator.quality { n.append("Evaluator \(evaluatorName): \(q.summary).") }
            return n
        }
        var n = ["\(prompts) prompts × \(seeds) seeds per entry; in each grid every row's picture in a column started from the same noise (seed matching).",
                 "FID: Fréchet distance between the evaluator's penultimate-layer features of the generated pictures and of \(referenceCount) real renders of the same prompts.",
                 "KID: unbiased MMD² with the cubic kernel in the same features, mean ± standard deviation over 100 seeded subsets; unlike FID it is unbiased at a few hundred pictures.",
                 "Seed σ (beside the FID): the standard deviation across seeds of each seed's own FID against the same reference — the noise to read differences against (a single seed's FID, from fewer pictures, sits above the pooled one).",
                 "CLIP score: max(mean 100·cos(image, prompt), 0) in the evaluator's shapes-world CLIP space.",
                 "Attribute accuracy: the fraction of pictures in which the evaluator's classifier reads all five attributes the prompt asks for.",
                 "NFE / image: network evaluations per picture, counted (a guided step runs both branches: 2)."]
        if let q = evaluator.quality { n.append("Evaluator \(evaluatorName): \(q.summary).") }
        return n
    }
}
