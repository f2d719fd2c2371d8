import Foundation
import Tensors

/// Draws shapes-world scenes: one filled shape on a plain background, anti-aliased and
/// deterministic from a seed.
///
/// Coverage of a pixel is the fraction of 64 sample points inside the shape, placed on the rank-1
/// lattice `((k + ½)/64, ((19k mod 64) + ½)/64)`: every row and column of a 64 × 64 sub-grid
/// holds one sample, so horizontal and vertical edges are resolved to 1/64 of a pixel (a square
/// 8 × 8 grid only manages 1/8), and generator 19 maximises the points' spacing. A
/// pixel whose centre lies more than half a diagonal (√2/2 px) from the edge — by the shape's
/// signed distance, exact outside and a lower bound on the depth inside — is fully outside or
/// inside and is not sampled, so only edge pixels cost 64 tests. Colours blend in sRGB:
/// `c = bg + (fg − bg) · coverage`, rounded.
/// A small seeded jitter (centre ±0.02, radius ±6 %) keeps pictures of one caption from being
/// identical without moving a shape into another position or size class.
public enum ShapesRenderer {
    /// Resolutions the world is designed for (the renderer draws any size ≥ 4).
    public static let resolutions = [16, 32, 64]
    static let centreJitter = 0.02
    static let radiusJitter = 0.06
    /// Philox stream of the jitter draws (index = 4 · example index + k).
    static let jitterStream: UInt64 = 0x5348_4150_4A49_5454

    /// The picture of `labels`, `resolution` pixels square; the jitter comes from `seed`.
    public static func render(labels: SceneLabels, resolution: Int, seed: UInt64) -> RGBImage {
        render(labels, resolution: resolution, rng: CounterRNG(seed: seed), index: 0)
    }

    /// The picture of example `index` of a stream keyed by `rng`.
    public static func render(_ labels: SceneLabels, resolution: Int, rng: CounterRNG, index: UInt64) -> RGBImage {
        let cover = coverage(geometry(labels, rng: rng, index: index), resolution: resolution)
        let fg = ShapesWorld.colours[labels.colour].rgb, bg = ShapesWorld.backgrounds[labels.background].rgb
        let f = [Float(fg.r), Float(fg.g), Float(fg.b)], b = [Float(bg.r), Float(bg.g), Float(bg.b)]
        var px = [UInt8](repeating: 0, count: resolution * resolution * 3)
        for i in 0..<cover.count {
            for c in 0..<3 { px[3 * i + c] = UInt8((b[c] + (f[c] - b[c]) * cover[i]).rounded()) }
        }
        return RGBImage(width: resolution, height: resolution, pixels: px)
    }

    /// Where a scene's shape goes, after jitter.
    public static func geometry(_ labels: SceneLabels, rng: CounterRNG, index: UInt64) -> ShapeGeometry {
        let place = ShapesWorld.positions[labels.position]
        func u(_ k: UInt64) -> Double { Double(rng.uniform(stream: jitterStream, index: 4 &* index &+ k)) * 2 - 1 }
        return ShapeGeometry(shape: labels.shape,
                             centreX: place.x + centreJitter * u(0), centreY: place.y + centreJitter * u(1),
                             radius: ShapesWorld.sizeRadii[labels.size] * (1 + radiusJitter * u(2)))
    }

    /// Sample offsets within a pixel (see the type's comment).
    static let samples: [(x: Double, y: Double)] = (0..<64).map { (k: Int) -> (x: Double, y: Double) in
        let row = (19 * k) % 64
        return ((Double(k) + 0.5) / 64, (Double(row) + 0.5) / 64)
    }

    /// Per-pixel coverage of `shape` on a `resolution`² grid, row-major.
    public static func coverage(_ shape: ShapeGeometry, resolution: Int) -> [Float] {
        precondition(resolution >= 4, "resolution \(resolution) is too small to draw")
        var out = [Float](repeating: 0, count: resolution * resolution)
        let n = Double(resolution)
        for y in 0..<resolution {
            for x in 0..<resolution {
                let d = shape.signedDistance(x: (Double(x) + 0.5) / n, y: (Double(y) + 0.5) / n) * n
                if d >= 0.7072 { continue }
                if d <= -0.7072 { out[y * resolution + x] = 1; continue }
                var hits = 0
                for p in samples where shape.signedDistance(x: (Double(x) + p.x) / n, y: (Double(y) + p.y) / n) <= 0 { hits += 1 }
                out[y * resolution + x] = Float(hits) / Float(samples.count)
            }
        }
        return out
    }
}

/// One shape placed in the unit square (x right, y down). `radius` sets the scale; each shape's
/// proportions are chosen so all read as about the same size (areas in `area`).
public struct ShapeGeometry {
    public let shape: Int
    public let centreX: Double
    public let centreY: Double
    public let radius: Double
    /// The shape's outline, resolved once from its name (the distance runs per sample point).
    enum Kind { case circle, square, diamond, triangle, cross }
    let kind: Kind

    public init(shape: Int, centreX: Double, centreY: Double, radius: Double) {
        self.shape = shape; self.centreX = centreX; self.centreY = centreY; self.radius = radius
        switch ShapesWorld.shapes[shape] {
        case "circle": kind = .circle
        case "square": kind = .square
        case "diamond": kind = .diamond
        case "triangle": kind = .triangle
        case "cross": kind = .cross
        default: preconditionFailure("no geometry for shape \(ShapesWorld.shapes[shape])")
        }
    }

    static let squareHalfSide = 0.87
    static let diamondHalfDiagonal = 1.08
    static let triangleCircumradius = 1.22
    static let crossHalfThickness = 0.34

    /// Signed distance from (x, y) to the shape's edge, negative inside (unit coordinates).
    public func signedDistance(x: Double, y: Double) -> Double {
        let px = x - centreX, py = y - centreY, r = radius
        switch kind {
        case .circle:
            return (px * px + py * py).squareRoot() - r
        case .square:
            return Self.box(px, py, r * Self.squareHalfSide, r * Self.squareHalfSide)
        case .diamond:
            // A square turned 45°: rotate the point back, half side = half diagonal / √2.
            let h = r * Self.diamondHalfDiagonal / 2.0.squareRoot()
            return Self.box((px + py) / 2.0.squareRoot(), (py - px) / 2.0.squareRoot(), h, h)
        case .triangle:
            // Point up; the bounding box (not the centroid) sits on the centre: the centroid is
            // R/4 below it for circumradius R.
            let rc = r * Self.triangleCircumradius
            return Self.equilateralTriangle(px, -(py - rc / 4), halfSide: rc * 3.0.squareRoot() / 2)
        case .cross:
            let t = r * Self.crossHalfThickness
            return min(Self.box(px, py, r, t), Self.box(px, py, t, r))
        }
    }

    /// Exact area of the shape (unit coordinates squared).
    public var area: Double {
        let r = radius
        switch kind {
        case .circle: return Double.pi * r * r
        case .square: return pow(2 * r * Self.squareHalfSide, 2)
        case .diamond: return 2 * pow(r * Self.diamondHalfDiagonal, 2)
        case .triangle: return 3 * 3.0.squareRoot() / 4 * pow(r * Self.triangleCircumradius, 2)
        case .cross:
            let t = 2 * r * Self.crossHalfThickness
            return 2 * (2 * r) * t - t * t
        }
    }

    /// Signed distance to an axis-aligned box of half sizes (bx, by) centred at the origin.
    static func box(_ x: Double, _ y: Double, _ bx: Double, _ by: Double) -> Double {
        let qx = abs(x) - bx, qy = abs(y) - by
        let outside = (max(qx, 0) * max(qx, 0) + max(qy, 0) * max(qy, 0)).squareRoot()
        return outside + min(max(qx, qy), 0)
    }

    /// Signed distance to an equilateral triangle with side `2 · halfSide`, centroid at the
    /// origin, apex up (+y) — Inigo Quilez's exact formula.
    static func equilateralTriangle(_ x0: Double, _ y0: Double, halfSide r: Double) -> Double {
        let k = 3.0.squareRoot()
        var x = abs(x0) - r, y = y0 + r / k
        if x + k * y > 0 { (x, y) = ((x - k * y) / 2, (-k * x - y) / 2) }
        x -= min(max(x, -2 * r), 0)
        let len = (x * x + y * y).squareRoot()
        return y > 0 ? -len : (y < 0 ? len : 0)
    }
}
