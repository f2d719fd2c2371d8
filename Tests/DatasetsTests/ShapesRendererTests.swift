import Foundation
import Tensors
import XCTest
@testable import Datasets

final class ShapesRendererTests: XCTestCase {
    /// Inside test written independently of the renderer's distance functions: polygons by
    /// edge signs, the circle by its equation, the cross as two rectangles.
    func inside(_ g: ShapeGeometry, _ x: Double, _ y: Double) -> Bool {
        let dx = x - g.centreX, dy = y - g.centreY, r = g.radius
        func convex(_ v: [(Double, Double)]) -> Bool {
            var sign = 0.0
            for i in 0..<v.count {
                let (ax, ay) = v[i], (bx, by) = v[(i + 1) % v.count]
                let cross = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
                if sign == 0 { sign = cross } else if cross * sign < 0 { return false }
            }
            return true
        }
        switch ShapesWorld.shapes[g.shape] {
        case "circle": return dx * dx + dy * dy <= r * r
        case "square": let h = 0.87 * r; return abs(dx) <= h && abs(dy) <= h
        case "diamond": return abs(dx) + abs(dy) <= 1.08 * r
        case "triangle":
            let R = 1.22 * r, half = R * 3.0.squareRoot() / 2  // apex up, bounding box centred
            return convex([(0, -0.75 * R), (half, 0.75 * R), (-half, 0.75 * R)])
        case "cross":
            let t = 0.34 * r
            return (abs(dx) <= r && abs(dy) <= t) || (abs(dx) <= t && abs(dy) <= r)
        default: fatalError()
        }
    }

    func supersampledCoverage(_ g: ShapeGeometry, resolution n: Int, samples s: Int = 32) -> [Float] {
        var out = [Float](repeating: 0, count: n * n)
        for py in 0..<n {
            for px in 0..<n {
                var hits = 0
                for sy in 0..<s {
                    for sx in 0..<s where inside(g, (Double(px) + (Double(sx) + 0.5) / Double(s)) / Double(n),
                                                 (Double(py) + (Double(sy) + 0.5) / Double(s)) / Double(n)) { hits += 1 }
                }
                out[py * n + px] = Float(hits) / Float(s * s)
            }
        }
        return out
    }

    func testCoverageAgreesWithSupersampledInsideTests() {
        for shape in 0..<5 {
            for (size, res) in [(0, 32), (1, 32), (1, 64), (0, 16)] {
                let g = ShapeGeometry(shape: shape, centreX: 0.51, centreY: 0.47, radius: ShapesWorld.sizeRadii[size])
                let analytic = ShapesRenderer.coverage(g, resolution: res)
                let reference = supersampledCoverage(g, resolution: res)
                let maxDiff = zip(analytic, reference).map { abs($0 - $1) }.max()!
                let sumA = analytic.reduce(0, +), sumR = reference.reduce(0, +)
                let name = "\(ShapesWorld.shapes[shape]) size \(size) at \(res)"
                // 64 lattice samples against a 32 × 32 grid per pixel.
                XCTAssertLessThan(maxDiff, 0.1, name)
                XCTAssertEqual(sumA, sumR, accuracy: 0.015 * sumR, name)
                // And both match the shape's exact area.
                XCTAssertEqual(Double(sumA) / Double(res * res), g.area, accuracy: 0.02 * g.area, name)
            }
        }
    }

    func testPicturesAreAntiAliasedAndUseTheCaptionsColours() throws {
        for scene in ShapesWorld.heldOutPromptScenes + ShapesWorld.trainingScenes.prefix(60) {
            for res in ShapesRenderer.resolutions {
                let image = ShapesRenderer.render(labels: scene, resolution: res, seed: 7)
                XCTAssertEqual(image.width, res)
                let fg = ShapesWorld.colours[scene.colour].rgb, bg = ShapesWorld.backgrounds[scene.background].rgb
                let colours = (0..<(res * res)).map { image[$0 % res, $0 / res] }
                let fgCount = colours.filter { $0 == fg }.count, bgCount = colours.filter { $0 == bg }.count
                XCTAssertTrue(showsColour(image, scene), "\(scene) at \(res): colour")
                if res >= 32 { XCTAssertGreaterThan(fgCount, 0, "\(scene) at \(res): no fully covered pixel") }
                XCTAssertGreaterThan(bgCount, res * res / 2, "\(scene) at \(res): background")
                XCTAssertGreaterThan(res * res - fgCount - bgCount, 0, "\(scene) at \(res): no anti-aliased edge pixel")
                // The corner farthest from the object shows the background.
                let p = ShapesWorld.positions[scene.position]
                XCTAssertEqual(image[p.x < 0.5 ? res - 1 : 0, p.y < 0.5 ? res - 1 : 0], bg)
            }
        }
    }

    func testObjectSitsAtItsPositionAndSize() {
        // The centre of mass of the coverage lies in the named position's quadrant, near its centre;
        // large shapes cover more than small ones.
        let rng = CounterRNG(seed: 11)
        for (i, scene) in ShapesWorld.trainingScenes.enumerated() where i % 7 == 0 {
            let g = ShapesRenderer.geometry(scene, rng: rng, index: UInt64(i))
            let c = ShapesRenderer.coverage(g, resolution: 64)
            let mass = c.reduce(0, +)
            var mx = 0.0, my = 0.0
            for (k, v) in c.enumerated() {
                mx += Double(v) * (Double(k % 64) + 0.5) / 64
                my += Double(v) * (Double(k / 64) + 0.5) / 64
            }
            mx /= Double(mass); my /= Double(mass)
            let p = ShapesWorld.positions[scene.position]
            // The triangle's centroid sits R/4 below its bounding-box centre.
            let expectY = p.y + (scene.name(of: .shape) == "triangle" ? 1.22 * g.radius / 4 : 0)
            XCTAssertEqual(mx, p.x, accuracy: 0.025, "\(scene)")
            XCTAssertEqual(my, expectY, accuracy: 0.025, "\(scene)")
            let fraction = Double(mass) / 4096
            XCTAssertTrue(scene.size == 0 ? fraction < 0.075 : fraction > 0.08, "\(scene): area fraction \(fraction)")
            // Nothing is cut off by the picture's edge.
            for k in 0..<64 {
                XCTAssertLessThan(c[k] + c[63 * 64 + k] + c[k * 64] + c[k * 64 + 63], 0.5, "\(scene) touches the border")
            }
        }
    }

    func testRenderingIsDeterministicFromTheSeed() {
        let scene = ShapesWorld.trainingScenes[123]
        let a = ShapesRenderer.render(labels: scene, resolution: 32, seed: 5)
        XCTAssertEqual(a, ShapesRenderer.render(labels: scene, resolution: 32, seed: 5))
        let others = (6..<14).map { ShapesRenderer.render(labels: scene, resolution: 32, seed: UInt64($0)) }
        XCTAssertTrue(others.contains { $0 != a }, "jitter should vary with the seed")
    }
}
