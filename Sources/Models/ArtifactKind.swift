/// Every artifact kind, in one place: a file's `kind` metadata and its artifact's kind in the
/// store are these strings (never literals elsewhere).
public enum ArtifactKind {
    /// A teacher model (train-teacher): EMA weights, configs, xvar table.
    public static let teacher = "teacher"
    /// A multistep consistency student (distill).
    public static let student = "student"
    /// The judge of the evaluate job (train-evaluator).
    public static let evaluator = "evaluator"
    /// An imported image-folder dataset (mscm-ctl dataset import).
    public static let dataset = "dataset"
    /// Training checkpoints (`TrainingCheckpoint`).
    public static let teacherCheckpoint = "teacher-checkpoint"
    public static let distillCheckpoint = "distill-checkpoint"
    /// The sleep job's test checkpoints.
    public static let sleepCheckpoint = "checkpoint"
    /// The kinds of model a person samples and evaluates.
    public static let models = [teacher, student]

    /// The files of an evaluation report (every report kind starts with `reportPrefix`).
    public static let reportPrefix = "report-"
    public static let reportHTML = "report-html"
    public static let reportMetrics = "report-metrics"
    public static let reportPlot = "report-plot"
    public static let reportGrid = "report-grid"
    public static let reportStats = "report-stats"
    public static let reportFile = "report-file"
    /// A series' pointer to its latest report.
    public static let reportSeries = "report-series"
}
