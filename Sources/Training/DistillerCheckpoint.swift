import Datasets
import Formats
import Foundation
import Models
import NeuralNet
import Tensors

/// Distillation checkpoints (`TrainingCheckpoint`): kind "distill-checkpoint", `teacher_sha`,
/// the distillation config under `distillation` and the model config under `config`. The
/// teacher's weights are not copied: a resume is handed the teacher again and checks it by sha256.
extension Distiller: ConfiguredRun {
    public static let checkpointKind = ArtifactKind.distillCheckpoint

    public func teacherSteps(ofIteration i: Int) -> Int? { config.effectiveTeacherSteps(atIteration: i) }

    /// Writes the checkpoint atomically (temporary file, then rename).
    public func saveCheckpoint(to url: URL) throws {
        try TrainingCheckpoint.write(kind: Self.checkpointKind, model: student, ema: ema, optimizer: optimizer, iteration: iteration,
                                     seed: config.seed, metadata: ["teacher_sha": teacherSHA, "distillation": config.jsonString(),
                                                                   "config": student.config.jsonString()], to: url)
    }

    /// Rebuilds a run from a checkpoint and the teacher it was made with (checked by sha256),
    /// reopening the dataset its config names unless one is given.
    public static func resume(from url: URL, teacher: TextToImageModel, teacherSHA: String,
                              dataset: TextImageDataset? = nil) throws -> Distiller {
        try resume(from: url, teacher: { sha in
            guard sha == teacherSHA else {
                throw ModelError("\(url.path): checkpoint was made from teacher \(printableField(String(sha.prefix(12)))), not \(teacherSHA.prefix(12))")
            }
            return teacher
        }, dataset: dataset)
    }

    /// Rebuilds a run from a checkpoint; `teacher` fetches the teacher by the sha256 the
    /// checkpoint records (so a resumed job uses the very teacher it started with, even if a
    /// newer artifact took the teacher's name meanwhile).
    public static func resume(from url: URL, teacher loadTeacher: (_ sha: String) throws -> TextToImageModel,
                              dataset: TextImageDataset? = nil) throws -> Distiller {
        let file = try TrainingCheckpoint.Contents(url, kind: checkpointKind, what: "distillation checkpoint")
        let name = file.source
        guard let json = file.metadata["distillation"], let done = file.iteration, let teacherSHA = file.metadata["teacher_sha"] else {
            throw ModelError("\(name): checkpoint metadata lacks the distillation config, the iteration or the teacher")
        }
        let config = try DistillationConfig.decode(json: json, source: name)   // checked before anything is loaded
        let teacher = try loadTeacher(teacherSHA)
        let distiller = try Distiller(config: config, teacher: teacher, teacherSHA: teacherSHA,
                                      dataset: dataset ?? config.openDataset(resolution: teacher.resolution))
        try file.restore(model: distiller.student, ema: distiller.ema, optimizer: distiller.optimizer, iteration: done)
        distiller.iteration = done
        return distiller
    }
}

extension Distiller {
    public static let studentKind = ArtifactKind.student

    /// Ends the run: writes the student (EMA weights as its parameters) with `kind` "student" and
    /// metadata `student_steps` (S), `guidance` (the fixed w) or `guidance_range` (`LOW:HIGH`,
    /// for a guidance-conditioned student), `mode`, `teacher_sha`, `teacher_steps` (the schedule
    /// as JSON), `distillation` (the config) and `iterations_done`.
    public func writeStudent(to url: URL) throws {
        let schedule = String(decoding: try JSONEncoder().encode(config.teacherSteps), as: UTF8.self)
        var metadata = [
            "student_steps": String(config.studentSteps),
            "guidance": String(config.guidance),
            "mode": config.mode.rawValue,
            "teacher_sha": teacherSHA,
            "teacher_steps": schedule,
            "distillation": config.jsonString(),
            "iterations_done": String(iteration),
        ]
        if let range = config.guidanceRange {
            metadata["guidance"] = nil
            metadata["guidance_range"] = range.description
        }
        try ModelFile.write(student, tensors: ema.shadowTensors(), kind: Self.studentKind, extraMetadata: metadata, to: url)
    }
}
