import Diffusion
import Foundation
import Tensors

/// The samplers of docs/algorithms.md §6 by their command-line names: the teacher baselines and
/// the multistep consistency student's (Algorithm 2, for student files only).
public enum SamplerName: String, CaseIterable, Sendable {
    case ddim, addim, ddpm, student
}

/// Drawing pictures from a text-to-image model with any of the teacher samplers and guidance.
///
/// Seed matching (§6): the picture of prompt j under seed k starts from
/// `Sampling.initialNoise(seed: k, samples: j ..< j+1)` — sample index j is the prompt's
/// position in the list — so it is the same whatever the batch it is drawn in (and a single
/// prompt drawn alone is sample 0 unless `firstSample` says otherwise).
public enum TextToImageSampling {
    /// Pictures [P, R, R, 3] in (about) [−1, 1] for `prompts`, drawn in batches of at most
    /// `batchSize`; prompt j is sample `firstSample + j` of `seed`.
    ///
    /// `.student` is Algorithm 2 with the student's S steps (`studentSteps`, from its file):
    /// `steps` must equal S. A distilled student has learned the guided trajectory, so its
    /// `guidance` is normally 0 (one forward pass per step). A guidance-conditioned student
    /// (distilled for a range of w, §5) takes `guidance` as its input w instead — it must lie in
    /// the student's range — and samples with one forward pass per step whatever the sampler.
    public static func sample(_ model: TextToImageModel, prompts: [String], seed: UInt64, firstSample: Int = 0,
                              sampler: SamplerName, steps: Int, guidance: Double, xvar: XvarTable?,
                              studentSteps: Int? = nil, batchSize: Int = 64) throws -> Tensor {
        guard steps >= 1 else { throw ModelError("sampling: steps must be ≥ 1, got \(steps)") }
        guard !prompts.isEmpty else { throw ModelError("sampling: no prompts") }
        let method: TeacherSampler
        switch sampler {
        case .ddim: method = .ddim
        case .ddpm: method = .ancestral
        case .addim:
            guard let xvar else { throw ModelError("sampling: aDDIM needs the teacher's xvar table, and this model file has none") }
            method = .adjustedDDIM(.table(xvar))
        case .student:
            guard let studentSteps else { throw ModelError("sampling: the student sampler needs a student model file (with its step count S)") }
            guard steps == studentSteps else {
                throw ModelError("sampling: this student was distilled for \(studentSteps) step(s); the student sampler cannot take \(steps)")
            }
            method = .ddim
        }
        // A guidance-conditioned student learned the guided trajectory for every w of its range:
        // w is its input, not classifier-free guidance on top.
        var studentW: Double? = nil, cfg = guidance
        if let range = model.guidanceRange {
            guard range.contains(guidance) else {
                throw ModelError("sampling: this student was distilled for guidance in [\(range.lower), \(range.upper)]; w = \(guidance) is outside it")
            }
            studentW = guidance; cfg = 0
        }
        model.isTraining = false
        let r = model.resolution
        let out = Tensor(shape: [prompts.count, r, r, 3])
        var start = 0
        while start < prompts.count {
            let end = min(start + max(batchSize, 1), prompts.count)
            let first = firstSample + start
            let z1 = Sampling.initialNoise(seed: seed, samples: first..<(first + end - start), exampleShape: [r, r, 3])
            let vm = model.velocityModel(captions: Array(prompts[start..<end]), guidance: studentW)
            let x = sampler == .student
                ? Sampling.student(vm, steps: steps, guidance: cfg, from: z1, schedule: model.schedule)
                : Sampling.teacher(vm, method: method, steps: steps, guidance: cfg, from: z1, seed: seed,
                                   firstSample: first, schedule: model.schedule)
            out.slice(start, end).copy(from: x)
            start = end
        }
        return out
    }
}
