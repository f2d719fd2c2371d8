import XCTest
@testable import Datasets

final class ShapesDatasetTests: XCTestCase {
    func testTrainingStreamNeverEmitsAHeldOutCombination() throws {
        let data = try ShapesDataset(resolution: 16, seed: 2024)
        var seen = Set<SceneLabels>()
        for i in 0..<60_000 {
            let l = data.labels(i)
            XCTAssertFalse(ShapesWorld.isHeldOut(l), "example \(i): \(l.caption)")
            seen.insert(l)
        }
        // Uniform over the 900 training scenes: all of them show up in 60 000 draws.
        XCTAssertEqual(seen, Set(ShapesWorld.trainingScenes))
        // The batches' own labels and captions say the same (rendered, through the public API).
        for step in 0..<64 {
            let batch = data.batch(size: 32, step: step)
            for (caption, labels) in zip(batch.captions, batch.labels) {
                let parsed = try Caption.parse(caption)
                XCTAssertEqual(parsed, labels)
                XCTAssertFalse(ShapesWorld.isHeldOut(parsed), caption)
            }
        }
    }

    func testHeldOutAndAllSplitsDrawTheirScenes() throws {
        let data = try ShapesDataset(resolution: 16, seed: 1, split: .heldout)
        let drawn = Set((0..<2000).map { data.labels($0) })
        XCTAssertEqual(drawn, Set(ShapesWorld.heldOutPromptScenes))
        let everything = try ShapesDataset(resolution: 16, seed: 1, split: .all)
        XCTAssertEqual(Set((0..<40_000).map { everything.labels($0) }), Set(SceneLabels.all))
    }

    func testBatchesAreChannelsLastInMinusOneToOneAndMatchExamples() throws {
        let data = try ShapesDataset(resolution: 32, seed: 9)
        let batch = data.batch(size: 5, step: 3)
        XCTAssertEqual(batch.images.shape, [5, 32, 32, 3])
        XCTAssertEqual(batch.captions.count, 5)
        let values = batch.images.toArray()
        XCTAssertEqual(values.min()!, -1, accuracy: 0.2)  // the black background is 16/255
        XCTAssertTrue(values.allSatisfy { $0 >= -1 && $0 <= 1 })
        for b in 0..<5 {
            let e = data.example(15 + b)
            XCTAssertEqual(batch.captions[b], e.caption)
            // Channels last: element (b, y, x, c) is pixel (x, y) channel c, mapped v/127.5 − 1.
            for (x, y, c) in [(0, 0, 0), (31, 0, 1), (5, 17, 2), (31, 31, 0)] {
                let v = Float(e.image.pixels[(y * 32 + x) * 3 + c])
                XCTAssertEqual(batch.images[((b * 32 + y) * 32 + x) * 3 + c], v / 127.5 - 1)
            }
            XCTAssertEqual(RGBImage(tensor: batch.images.slice(b, b + 1)), e.image, "8-bit → [−1, 1] → 8-bit is exact")
        }
    }

    func testStreamIsAPureFunctionOfSeedAndIndex() throws {
        let a = try ShapesDataset(resolution: 16, seed: 77), b = try ShapesDataset(resolution: 16, seed: 77)
        // Batch i of size B holds examples i·B ..< (i+1)·B, so a resumed run with another batch
        // size still sees the same examples.
        let big = a.batch(size: 8, step: 1), small = b.batch(size: 4, step: 2)
        XCTAssertEqual(Array(big.images.slice(0, 4).buffer), Array(small.images.buffer))
        XCTAssertEqual(Array(big.captions.prefix(4)), small.captions)
        let other = try ShapesDataset(resolution: 16, seed: 78)
        XCTAssertNotEqual((0..<16).map { other.example($0).caption }, (0..<16).map { a.example($0).caption })
    }

    func testInvalidResolutionIsAnError() {
        XCTAssertThrowsError(try ShapesDataset(resolution: 4, seed: 0)) { e in XCTAssertTrue("\(e)".contains("resolution")) }
        XCTAssertThrowsError(try ShapesDataset(resolution: 100_000, seed: 0))
    }

    func testEveryHeldOutCaptionParsesAndRenders() throws {
        for caption in ShapesWorld.heldOutCaptions {
            let labels = try Caption.parse(caption)
            for r in ShapesRenderer.resolutions {
                let image = ShapesRenderer.render(labels: labels, resolution: r, seed: 0)
                XCTAssertEqual(image.pixels.count, r * r * 3)
                XCTAssertTrue(showsColour(image, labels), "\(caption) at \(r)")
            }
        }
    }
}

/// Whether the pixel most unlike the background is a blend `bg + α (fg − bg)` with α > ½ of
/// the caption's colour over its background (small shapes at 16×16 may cover no pixel fully).
func showsColour(_ image: RGBImage, _ labels: SceneLabels) -> Bool {
    let fg = ShapesWorld.colours[labels.colour].rgb, bg = ShapesWorld.backgrounds[labels.background].rgb
    let f = [Double(fg.r), Double(fg.g), Double(fg.b)], b = [Double(bg.r), Double(bg.g), Double(bg.b)]
    func vec(_ p: RGB) -> [Double] { [Double(p.r) - b[0], Double(p.g) - b[1], Double(p.b) - b[2]] }
    let d = zip(f, b).map { $0 - $1 }
    let far = (0..<(image.width * image.height)).map { image[$0 % image.width, $0 / image.width] }
        .max { vec($0).reduce(0) { $0 + $1 * $1 } < vec($1).reduce(0) { $0 + $1 * $1 } }!
    let v = vec(far)
    let alpha = zip(v, d).reduce(0) { $0 + $1.0 * $1.1 } / d.reduce(0) { $0 + $1 * $1 }
    let offLine = zip(v, d).map { ($0 - alpha * $1) * ($0 - alpha * $1) }.reduce(0, +).squareRoot()
    return alpha > 0.5 && alpha <= 1.0001 && offLine < 1.5
}
