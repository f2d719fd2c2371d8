import Datasets
import Diffusion
import Models

/// Sample grids: pictures of a text-to-image model laid out with their prompts and seeds.
/// Here, not in Models, because the grid (`ImageGrid`, `RGBImage`) is a Datasets type.
extension TextToImageSampling {
    /// A labelled grid, each tile enlarged `scale` times: one row per prompt and one column per
    /// seed (`seeds` consecutive seeds from `seed`); or, with `columns`, the pictures prompt by
    /// prompt (each prompt's seeds together) in rows of `columns` tiles, each captioned.
    public static func grid(_ model: TextToImageModel, prompts: [String], seed: UInt64, seeds: Int, sampler: SamplerName,
                            steps: Int, guidance: Double, xvar: XvarTable?, studentSteps: Int? = nil, scale: Int = 4,
                            columns: Int? = nil, title: String? = nil) throws -> RGBImage {
        guard seeds >= 1 else { throw ModelError("sampling: seeds must be ≥ 1, got \(seeds)") }
        var bySeed: [[RGBImage]] = []
        for k in 0..<seeds {
            let images = try sample(model, prompts: prompts, seed: seed + UInt64(k), sampler: sampler, steps: steps,
                                    guidance: guidance, xvar: xvar, studentSteps: studentSteps)
            bySeed.append((0..<prompts.count).map { RGBImage(tensor: images.slice($0, $0 + 1)) })
        }
        if let columns {
            guard columns >= 1 else { throw ModelError("sampling: columns must be ≥ 1, got \(columns)") }
            var images: [RGBImage] = [], captions: [String] = []
            for p in prompts.indices {
                for k in 0..<seeds {
                    images.append(bySeed[k][p])
                    captions.append(seeds > 1 ? "\(prompts[p]) (seed \(seed + UInt64(k)))" : prompts[p])
                }
            }
            return ImageGrid(images: images, captions: captions, columns: columns, scale: scale, title: title).render()
        }
        let tiles = (0..<prompts.count).map { p in bySeed.map { $0[p] } }
        return ImageGrid(tiles: tiles, scale: scale, rowLabels: prompts,
                         columnLabels: (0..<seeds).map { "seed \(seed + UInt64($0))" }, title: title).render()
    }
}
