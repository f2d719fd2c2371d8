// Presets at other resolutions than their own (`--resolution 16|32|64`).

extension ModelConfig {
    /// Resolutions a teacher may be trained at.
    public static let resolutions = [16, 32, 64]

    /// Preset `name` sized for `resolution`: at the preset's own resolution the preset itself
    /// (so seeded runs stay byte-identical); at twice it, one more ResBlock level in front with
    /// half the channels of the first (at 2× the side and ½ the channels a 3×3 convolution costs
    /// the same, so each doubling adds about one level's FLOPs); at half it, the first level
    /// dropped. The transformer always sees the same token grid, and the dropout stays off the
    /// highest-resolution level.
    public static func preset(_ name: String, resolution: Int) throws -> ModelConfig {
        var c = try preset(name)
        guard resolutions.contains(resolution) else {
            throw ModelError("resolution must be one of \(resolutions.map(String.init).joined(separator: ", ")), got \(resolution)")
        }
        var u = c.uvit
        while u.resolution < resolution {
            u.channels.insert(max(u.channels[0] / 2, 4), at: 0)
            u.resBlocks.insert(u.resBlocks[0], at: 0)
            u.dropoutFromLevel += 1
            u.resolution *= 2
        }
        while u.resolution > resolution {
            guard u.levels > 1 else {
                throw ModelError("preset '\(name)' cannot be made smaller than \(u.resolution)×\(u.resolution)")
            }
            u.channels.removeFirst()
            u.resBlocks.removeFirst()
            u.dropoutFromLevel = max(u.dropoutFromLevel - 1, min(1, u.levels - 1))
            u.resolution /= 2
        }
        c.uvit = u
        return c
    }
}
