import Foundation

/// A training run: state tensors that one `trainingStep()` advances by an iteration. The
/// teacher (`TeacherTrainer`), the distiller (`Distiller`) and the evaluator
/// (`EvaluatorTrainer`) are runs; `train(…)` is the one loop that drives every one of them, for
/// jobs (`Jobs`' checkpointed job loop) and for local commands alike.
///
/// Every random draw of iteration i is a pure function of (seed, i, example), so a run's
/// random position is its iteration: a checkpoint (`TrainingCheckpoint`) holds the weights, the
/// EMA, the optimiser's state, the iteration, the seed and the config, and a run resumed from
/// one ends bit-identical to an uninterrupted one.
public protocol TrainingRun: AnyObject {
    /// Iterations completed.
    var iteration: Int { get }
    /// Where the run ends.
    var totalIterations: Int { get }
    /// Examples one iteration trains on (the rate is in examples — images — per second).
    var examplesPerIteration: Int { get }
    /// A checkpoint every this many iterations (0: only when stopped).
    var checkpointEvery: Int { get }
    /// One iteration; returns the loss progress reports.
    func trainingStep() throws -> Double
    /// T of iteration `i` for a distillation run (reported with the progress), nil for others.
    func teacherSteps(ofIteration i: Int) -> Int?
}

/// A run that can write its whole state to a checkpoint file (`TrainingCheckpoint`).
public protocol CheckpointedRun: TrainingRun {
    /// Writes the checkpoint atomically (temporary file, then rename).
    func saveCheckpoint(to url: URL) throws
}

/// The settings every training config has: its length, batch and checkpoint cadence.
public protocol RunSettings {
    var iterations: Int { get }
    var batchSize: Int { get }
    var checkpointEvery: Int { get }
    /// The EMA decay the warm-up rises to.
    var emaDecay: Float { get }
    /// Whether the decay is warmed up (`ConfiguredRun.emaDecay(at:)`); true unless a config says.
    var emaWarmsUp: Bool { get }
}

extension RunSettings {
    public var emaWarmsUp: Bool { true }
}

/// A run of one config (`TeacherTrainer`, `Distiller`): its length, batch, checkpoint cadence
/// and EMA warm-up come from the config, and its `step()` is the loop's step.
public protocol ConfiguredRun: CheckpointedRun {
    associatedtype Settings: RunSettings
    var config: Settings { get }
    /// One iteration; returns the loss.
    func step() throws -> Double
}

extension ConfiguredRun {
    public var totalIterations: Int { config.iterations }
    public var examplesPerIteration: Int { config.batchSize }
    public var checkpointEvery: Int { config.checkpointEvery }
    public func trainingStep() throws -> Double { try step() }

    /// EMA decay of update i: min(decay, (1 + i) / (10 + i)), so that a short run's average is
    /// not dominated by the random initial weights (the warm-up of TensorFlow's
    /// ExponentialMovingAverage with num_updates); the plain decay for a config without warm-up.
    public func emaDecay(at i: Int) -> Float {
        config.emaWarmsUp ? min(config.emaDecay, Float(1 + i) / Float(10 + i)) : config.emaDecay
    }
}

/// How a call to `run` or `train` ended.
public enum TrainingOutcome: Equatable, Sendable {
    case finished
    /// `shouldStop` asked to stop; the state was checkpointed (when a checkpoint was asked for).
    case stopped(atIteration: Int)
}

/// One progress report of a training run.
public struct TrainingProgress: Sendable {
    /// Iterations completed.
    public let iteration: Int
    public let total: Int
    /// Mean loss over the iterations since the previous report.
    public let loss: Double
    /// The loss as an exponential moving average (0.9 · previous + 0.1 · this) over every
    /// iteration of this attempt: the figure a job row shows.
    public let smoothedLoss: Double
    /// Examples per second over the iterations of this attempt, and the ETA that follows.
    public let imagesPerSecond: Double
    public let etaSeconds: Double
    /// T = round(N_teacher(i) / S) · S of the last iteration of a distillation run (§5); nil for others.
    public let teacherSteps: Int?

    /// `iteration 120/2500  loss 0.1834  61.2 images/s  ETA 41m 03s` (with `teacher steps 256`
    /// after the loss for a distillation run).
    public var line: String {
        let eta = Int(etaSeconds.rounded())
        let etaText = eta >= 3600 ? String(format: "%dh %02dm", eta / 3600, eta / 60 % 60) : String(format: "%dm %02ds", eta / 60, eta % 60)
        let steps = teacherSteps.map { String(format: "  teacher steps %d", $0) } ?? ""
        return String(format: "iteration %d/%d  loss %.4f", iteration, total, loss) + steps
            + String(format: "  %.1f images/s  ETA ", imagesPerSecond) + etaText
    }
}

/// One progress report of a distillation run (its `teacherSteps` is set).
public typealias DistillationProgress = TrainingProgress

/// The one progress meter of every training loop: the loss since the last report and its
/// moving average, the rate over the iterations of this attempt and the ETA that follows.
public struct ProgressMeter {
    public let total: Int
    public let examplesPerIteration: Int
    /// The iteration this attempt started at.
    public let start: Int
    let began = DispatchTime.now().uptimeNanoseconds
    var smoothedLoss: Double?
    var windowLoss = 0.0, windowSteps = 0

    public init(total: Int, examplesPerIteration: Int, start: Int) {
        self.total = total; self.examplesPerIteration = examplesPerIteration; self.start = start
    }

    /// Adds iteration `iteration`'s loss.
    public mutating func add(loss: Double) {
        smoothedLoss = smoothedLoss.map { 0.9 * $0 + 0.1 * loss } ?? loss
        windowLoss += loss
        windowSteps += 1
    }

    /// The report at `iteration` (completed); starts the next loss window.
    public mutating func report(iteration: Int, teacherSteps: Int? = nil) -> TrainingProgress {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        let rate = Double((iteration - start) * examplesPerIteration) / max(seconds, 1e-9)
        let eta = Double((total - iteration) * examplesPerIteration) / max(rate, 1e-9)
        let mean = windowSteps > 0 ? windowLoss / Double(windowSteps) : .nan
        windowLoss = 0; windowSteps = 0
        return TrainingProgress(iteration: iteration, total: total, loss: mean, smoothedLoss: smoothedLoss ?? .nan,
                                imagesPerSecond: rate, etaSeconds: eta, teacherSteps: teacherSteps)
    }
}

extension TrainingRun {
    public func teacherSteps(ofIteration i: Int) -> Int? { nil }

    /// The training loop: steps until `totalIterations`, reporting every `reportEvery`
    /// iterations (and at the last), calling `checkpoint` every `checkpointEvery` iterations
    /// (not at the last: the run's output follows), and stopping — after `checkpoint` — as soon
    /// as `shouldStop` returns true. `shouldStop` may throw instead, to end the run with an error
    /// (a job's cancellation); then the caller decides about a checkpoint.
    public func train(reportEvery: Int = 1, checkpoint: (() throws -> Void)? = nil,
                      shouldStop: () throws -> Bool = { false },
                      report: (TrainingProgress) throws -> Void = { _ in }) throws -> TrainingOutcome {
        let total = totalIterations
        var meter = ProgressMeter(total: total, examplesPerIteration: examplesPerIteration, start: iteration)
        while iteration < total {
            if try shouldStop() {
                try checkpoint?()
                return .stopped(atIteration: iteration)
            }
            let steps = teacherSteps(ofIteration: iteration)
            meter.add(loss: try trainingStep())
            if iteration % max(reportEvery, 1) == 0 || iteration == total {
                try report(meter.report(iteration: iteration, teacherSteps: steps))
            }
            if let checkpoint, checkpointEvery > 0, iteration % checkpointEvery == 0, iteration < total {
                try checkpoint()
            }
        }
        return .finished
    }
}

extension CheckpointedRun {
    /// Trains until the end, reporting every `reportEvery` iterations, writing a checkpoint to
    /// `checkpoint` every `checkpointEvery` iterations, and stopping (after a checkpoint) as
    /// soon as `shouldStop` returns true.
    public func run(checkpoint: URL? = nil, reportEvery: Int = 10,
                    progress: (TrainingProgress) -> Void = { _ in },
                    shouldStop: () -> Bool = { false }) throws -> TrainingOutcome {
        try train(reportEvery: reportEvery, checkpoint: checkpoint.map { url in { try self.saveCheckpoint(to: url) } },
                  shouldStop: shouldStop, report: progress)
    }
}
