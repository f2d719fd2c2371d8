import Datasets
import Foundation
import Models

/// `sample --out-dir`: every prompt under every seed as its own PNG plus metadata.jsonl
/// (`SampleFolder`), for tools that read image folders. `guidance` is the one recorded (a
/// student's own w); `samplingGuidance` the one the sampler runs with (0 for a student).
func writeSampleFolder(_ file: ModelFile, prompts: [String], seed: UInt64, seeds: Int, sampler: SamplerName, steps: Int,
                       guidance: Double, samplingGuidance: Double, model: String, to directory: URL) throws {
    var pictures: [SampleFolder.Picture] = []
    for k in 0..<seeds {
        let s = seed + UInt64(k)
        let x = try TextToImageSampling.sample(file.model, prompts: prompts, seed: s, sampler: sampler, steps: steps,
                                               guidance: samplingGuidance, xvar: file.xvar, studentSteps: file.studentSteps)
        for j in prompts.indices {
            pictures.append(SampleFolder.Picture(image: RGBImage(tensor: x.slice(j, j + 1)), prompt: prompts[j], promptIndex: j, seed: s))
        }
    }
    try SampleFolder.write(pictures, extra: ["model": model, "kind": file.kind, "sampler": sampler.rawValue, "steps": steps,
                                             "guidance": guidance], to: directory)
    print("wrote \(pictures.count) pictures (\(prompts.count) prompt(s) × \(seeds) seed(s)) and metadata.jsonl to \(directory.path)")
}
