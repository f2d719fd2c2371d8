import XCTest
import ToyDiffusion

/// `Figure1` (what `mscm-ctl figure1` writes): four panels — the 1-, 2- and 4-step students and
/// the DDIM teacher — with one path per trajectory, the same SVG for the same seed.
final class Figure1Tests: XCTestCase {
    func testFourPanelsOfTrajectoriesDeterministically() throws {
        let figure = Figure1(iterations: 10, fitIterations: 10, trajectories: 3, teacherSteps: 8, seed: 2)
        var lines: [String] = []
        let svg = try figure.svg { lines.append($0) }
        XCTAssertTrue(svg.hasPrefix("<svg "), String(svg.prefix(40)))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<g>").count - 1, 4)
        for title in ["1-step consistency model", "2-step consistency model", "4-step consistency model", "Diffusion teacher"] {
            XCTAssertTrue(svg.contains(title), title)
        }
        // Per panel: the two density outlines plus one stroke per trajectory.
        XCTAssertEqual(svg.components(separatedBy: "stroke-width=\"1.1\"").count - 1, 4 * 3)
        XCTAssertEqual(lines.filter { $0.contains("W1 to the teacher") }.count, 3, "\(lines)")
        XCTAssertEqual(try figure.svg { _ in }, svg, "same seed, same figure")
    }
}
