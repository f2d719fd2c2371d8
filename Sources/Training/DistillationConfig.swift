import Datasets
import Diffusion
import Foundation
import Models

/// Which §5 target a `Distiller` trains towards.
public enum DistillationMode: String, Codable, CaseIterable, Sendable {
    /// Multistep consistency distillation: x_T from the guided teacher, aDDIM with per-example xvar.
    case cd
    /// Multistep consistency training: x_T = x, xvar = 0; the teacher file only supplies the
    /// student's initial weights and is never evaluated.
    case ct
}

/// Everything that determines a distillation run (docs/algorithms.md §5) besides the teacher's
/// weights: together with the teacher and the seed it fixes every number the run produces.
///
/// Defaults, sized for the `small` preset on a 2-core machine (2–9 minutes a run): batch 32 and
/// a run length that follows S (`defaultIterations`) — one iteration runs the guided teacher on a
/// doubled batch and the student three times (target, forward, backward), about 6·B network
/// evaluations, so batch 32 keeps an iteration near half a second; AdamW at 5e-5 (the student
/// starts at the teacher's optimum and only has to bend its trajectories; the recipe ablation in
/// docs/results.md found 5e-5 best of 5e-5, 1e-4, 2e-4 and 1e-3 on average over S = 1…16, by FID
/// and KID) with a 20-iteration warm-up and cosine decay to a tenth, no weight decay (it would pull the
/// teacher's weights towards zero), EMA 0.99 (warmed up like the teacher's) for a run this
/// short, and up to S = 8 that EMA behind the stop-gradient target (`defaultEMATarget`). The §5
/// defaults: 256 fixed teacher steps, w = 3, η = 0.75, pseudo-Huber c = 1e-4 per example (≈ the
/// Euclidean distance the paper uses on ImageNet).
public struct DistillationConfig: StoredConfig, RunSettings, Equatable, Sendable {
    public static let storedName = "a distillation config"
    public func validateStored(field: String) throws { try validate() }

    /// S: student sampling steps.
    public var studentSteps: Int
    /// N_teacher(i): fixed or annealed 64 → 1280.
    public var teacherSteps: TeacherStepSchedule
    public var mode: DistillationMode
    /// w of the guided teacher (§3); the student learns the guided trajectory.
    public var guidance: Double
    /// η (`xvar_frac`): xvar = η · ‖x̂_cond − x‖² / d on the unguided prediction (§4, §5).
    public var xvarFraction: Double
    /// c (`huber_epsilon`) of the pseudo-Huber loss.
    public var huberC: Double
    public var huberReduction: HuberReduction
    /// "shapes" (the built-in world, seeded with `seed`) or an image-folder path.
    public var dataset: String
    public var iterations: Int
    public var batchSize: Int
    public var learningRate: Float
    public var finalLearningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    public var gradClip: Float
    public var emaDecay: Float
    /// Seeds the data stream and every §5 draw (step, n_rel, ε).
    public var seed: UInt64
    /// A checkpoint every this many iterations (0: only when stopped).
    public var checkpointEvery: Int
    /// Guidance-conditioned distillation (§5): w ~ U[lower, upper] per example, the student
    /// takes w as an input, and `guidance` is unused. nil (omitted from the JSON): one fixed w.
    public var guidanceRange: GuidanceRange? = nil
    /// With a guidance range: multiplies the learning rate of the guidance MLP (`embed.guidance.*`),
    /// which starts at zero and sees a gradient averaged over B different w. nil: 1.
    public var guidanceLearningRateScale: Float? = nil
    /// The weights behind the stop-gradient target x_ref: true (the default since the fifth
    /// round of docs/results.md), the EMA the student file keeps (the original CD's EMA target);
    /// nil or false, the current student's (iCT style). The current weights are stored as nil,
    /// omitted from the JSON, so files written before the EMA target became the default — which
    /// have no key — still read as what they were, and such runs keep their bytes.
    public var emaTarget: Bool? = nil
    /// The space the consistency difference is measured in: nil or v, the v-space of §5 (weight
    /// SNR + 1 in x-space); x, the x-space difference. nil is omitted from the JSON, as above.
    public var lossWeighting: ConsistencyLossWeighting? = nil
    /// Dropout probability in the student's UViT during distillation (the levels the teacher's
    /// config names with `dropoutFromLevel`, and the transformer MLPs). The target and the
    /// gradient pass of an iteration draw the same masks, so both evaluate one function (as in
    /// the original CD code, which restores the RNG state between them); the teacher and
    /// sampling run without. nil (omitted from the JSON): off.
    public var dropout: Float? = nil
    /// false: the EMA decays at `emaDecay` from the first update, without the warm-up, which
    /// caps it at (1 + i)/(10 + i) — below 0.985 in a 600-iteration run. The student starts as
    /// the teacher, not at random weights, so there is nothing for a warm-up to forget. nil
    /// (omitted from the JSON): warmed up.
    public var emaWarmup: Bool? = nil
    public var emaWarmsUp: Bool { emaWarmup ?? true }

    /// The default run length for S student steps: 300 iterations below S = 4, max(600, 75·S)
    /// from there — 600 at S = 4 and 8, 1,200 at 16. Each iteration spreads its batch over the S
    /// segments, so a segment sees B/S examples per iteration, and longer runs pay most where
    /// segments are many. Measured (docs/results.md): with the current-weights target the 16-step
    /// student went FID 219 → 203 → 161 at 300, 600 and 1,200 iterations; with the EMA target the
    /// 4-step one 165 → 158 → 147 at 300, 600 and 1,200, the 8-step one 154 → 152 from 600 to
    /// 1,200, while the 2-step one did not gain (211 → 236 from 300 to 600).
    public static func defaultIterations(studentSteps s: Int) -> Int {
        max(s >= 4 ? 600 : 300, 75 * min(max(s, 1), 10_000))
    }

    /// The default stop-gradient target for S student steps: the EMA up to S = 8, the current
    /// weights above. Measured (docs/results.md, fifth and sixth rounds): the EMA target took
    /// S = 8 from FID 195 to 154 and S = 4 from 174 to 165, but at S = 16 it needs twice the run
    /// for what the current weights reach at 1,200 iterations (159 at 2,400 against 161 and 166).
    public static func defaultEMATarget(studentSteps s: Int) -> Bool { s <= 8 }

    public init(studentSteps: Int, teacherSteps: TeacherStepSchedule = .fixed(256), mode: DistillationMode = .cd,
                guidance: Double = 3, xvarFraction: Double = 0.75, huberC: Double = 1e-4,
                huberReduction: HuberReduction = .perExample, dataset: String = "shapes", iterations: Int? = nil,
                batchSize: Int = 32, learningRate: Float = 5e-5, finalLearningRate: Float? = nil, warmupSteps: Int = 20,
                weightDecay: Float = 0, gradClip: Float = 1, emaDecay: Float = 0.99, emaTarget: Bool? = nil,
                seed: UInt64 = 0, checkpointEvery: Int = 50) {
        self.studentSteps = studentSteps; self.teacherSteps = teacherSteps; self.mode = mode
        self.guidance = guidance; self.xvarFraction = xvarFraction; self.huberC = huberC
        self.huberReduction = huberReduction; self.dataset = dataset
        self.iterations = iterations ?? Self.defaultIterations(studentSteps: studentSteps)
        self.batchSize = batchSize; self.learningRate = learningRate
        self.finalLearningRate = finalLearningRate ?? learningRate / 10; self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay; self.gradClip = gradClip; self.emaDecay = emaDecay
        self.emaTarget = (emaTarget ?? Self.defaultEMATarget(studentSteps: studentSteps)) ? true : nil; self.seed = seed
        self.checkpointEvery = checkpointEvery
    }

    /// One-line errors for settings no run can use.
    public func validate() throws {
        func fail(_ s: String) -> ModelError { ModelError("distillation: \(s)") }
        let s = studentSteps
        guard s >= 1 else { throw fail("student steps must be ≥ 1, got \(s)") }
        guard s <= 10_000 else { throw fail("student steps must be ≤ 10000, got \(s)") }
        // §5 rounds N_seg = round(N / S); a count that rounds to 0 cannot fill S segments.
        func divisible(_ n: Int, _ what: String) throws {
            guard n >= 1 else { throw fail("\(what) must be ≥ 1, got \(n)") }
            guard n <= 1_000_000 else { throw fail("\(what) must be ≤ 1000000, got \(n)") }
            let nSeg = Int((Double(n) / Double(s)).rounded())
            guard nSeg >= 1 else {
                throw fail("\(what) \(n) do not divide into \(s) segments: round(\(n) / \(s)) = 0 teacher steps per student step (need at least \((s + 1) / 2))")
            }
        }
        switch teacherSteps {
        case .fixed(let n): try divisible(n, "teacher steps")
        case .annealed(let start, let end, let span):
            try divisible(start, "annealing's first teacher steps")
            try divisible(end, "annealing's last teacher steps")
            guard span >= 1, span <= 1_000_000_000 else { throw fail("annealing iterations must be in 1…1000000000, got \(span)") }
        }
        guard guidance >= 0, guidance.isFinite else { throw fail("guidance must be ≥ 0, got \(guidance)") }
        guard (0...1).contains(xvarFraction) else { throw fail("η (xvar fraction) must be in [0, 1], got \(xvarFraction)") }
        guard huberC > 0, huberC.isFinite else { throw fail("Huber c must be > 0, got \(huberC)") }
        guard iterations >= 1 else { throw fail("iterations must be ≥ 1, got \(iterations)") }
        guard iterations <= 1_000_000_000 else { throw fail("iterations must be ≤ 1000000000, got \(iterations)") }
        guard batchSize >= 1 else { throw fail("batch size must be ≥ 1, got \(batchSize)") }
        guard batchSize <= 65_536 else { throw fail("batch size must be ≤ 65536, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite, finalLearningRate >= 0, finalLearningRate.isFinite else {
            throw fail("learning rates must be positive and finite, got \(learningRate) and \(finalLearningRate)")
        }
        guard (0...1_000_000_000).contains(warmupSteps), weightDecay >= 0, weightDecay.isFinite, gradClip > 0, gradClip.isFinite else {
            throw fail("warm-up and weight decay must be ≥ 0 and the gradient clip > 0, got \(warmupSteps), \(weightDecay) and \(gradClip)")
        }
        guard emaDecay >= 0, emaDecay <= 1 else { throw fail("EMA decay \(emaDecay) outside [0, 1]") }
        guard (0...1_000_000_000).contains(checkpointEvery) else { throw fail("checkpoint interval must be ≥ 0, got \(checkpointEvery)") }
        guard !dataset.isEmpty, dataset.utf8.count <= 4096 else { throw fail("dataset must be 'shapes' or a folder path") }
        if let range = guidanceRange {
            try range.validate()
            guard mode == .cd else { throw fail("a guidance range needs mode cd: consistency training has no teacher to guide") }
        }
        if let p = dropout {
            guard p >= 0, p < 1 else { throw fail("dropout must be in [0, 1), got \(p)") }
        }
        if let scale = guidanceLearningRateScale {
            guard guidanceRange != nil else { throw fail("a guidance learning-rate scale needs a guidance range") }
            guard scale > 0, scale.isFinite else { throw fail("the guidance learning-rate scale must be > 0, got \(scale)") }
        }
    }

    /// The teacher-step schedule written `START:END:ITERATIONS` (e.g. `64:1280:5000`), the
    /// annealing of §5 from START to END teacher steps over ITERATIONS iterations.
    public static func parseAnneal(_ text: String) throws -> TeacherStepSchedule {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let start = parts[0], let end = parts[1], let span = parts[2] else {
            throw ModelError("distillation: annealing must be START:END:ITERATIONS (e.g. 64:1280:5000), got '\(text)'")
        }
        guard start >= 1, end >= 1, span >= 1 else {
            throw ModelError("distillation: annealing START, END and ITERATIONS must be ≥ 1, got '\(text)'")
        }
        return .annealed(start: start, end: end, iterations: span)
    }

    /// N_teacher(i) rounded to the grid §5 actually uses: T = round(N_teacher(i) / S) · S.
    public func effectiveTeacherSteps(atIteration i: Int) -> Int {
        teacherSteps.segmentSteps(atIteration: i, studentSteps: studentSteps) * studentSteps
    }

    /// Opens `dataset` at `resolution` (the teacher's).
    public func openDataset(resolution: Int) throws -> TextImageDataset {
        if dataset == "shapes" { return try ShapesDataset(resolution: resolution, seed: seed) }
        return try ImageFolderDataset(directory: URL(fileURLWithPath: dataset), resolution: resolution, seed: seed)
    }

    /// Decodes and validates the distillation config a file's metadata holds under `field`.
    public static func decode(json: String, source: String, field: String = "distillation") throws -> DistillationConfig {
        try decodeStored(json: json, source: source, field: field)
    }
}
