import Tensors
import XCTest
@testable import Datasets

final class ImageGridTests: XCTestCase {
    let red = RGBImage(width: 4, height: 4, fill: RGB(255, 0, 0))
    let blue = RGBImage(width: 4, height: 4, fill: RGB(0, 0, 255))

    func count(_ image: RGBImage, _ colour: RGB, x: Range<Int>, y: Range<Int>) -> Int {
        var n = 0
        for yy in y { for xx in x where image[xx, yy] == colour { n += 1 } }
        return n
    }

    func testTilesAreScaledNearestNeighbourAndPlacedInOrder() {
        let checker = RGBImage(width: 2, height: 1, pixels: [255, 255, 255, 0, 0, 0])
        XCTAssertEqual(checker.upscaled(by: 3).pixels.count, 6 * 3 * 3)
        XCTAssertEqual(checker.upscaled(by: 3)[2, 2], RGB(255, 255, 255))
        XCTAssertEqual(checker.upscaled(by: 3)[3, 0], RGB(0, 0, 0))

        let grid = ImageGrid(tiles: [[red, blue], [blue]], scale: 3, padding: 5)
        let out = grid.render()
        // No labels: padding + 2 cells of 12 px + padding after each.
        XCTAssertEqual(out.width, 5 + 2 * (12 + 5))
        XCTAssertEqual(out.height, 5 + 2 * (12 + 5))
        XCTAssertEqual(count(out, RGB(255, 0, 0), x: 5..<17, y: 5..<17), 144)
        XCTAssertEqual(count(out, RGB(0, 0, 255), x: 22..<34, y: 5..<17), 144)
        XCTAssertEqual(count(out, RGB(0, 0, 255), x: 5..<17, y: 22..<34), 144)
        XCTAssertEqual(count(out, RGB(255, 255, 255), x: 22..<34, y: 22..<34), 144, "missing tile stays background")
    }

    func testLabelsAndCaptionsAreDrawnWhereTheyBelong() {
        let ink = RGB(24, 24, 24)
        let grid = ImageGrid(tiles: [[red, blue]], scale: 8, rowLabels: ["teacher"], columnLabels: ["s0", "s1"],
                             captions: [["a red one", "a blue one, which wraps"]], title: "Title")
        let out = grid.render()
        let labelW = "teacher".count * 6 + 6
        let tileX = 6 + labelW, tileY = 6 + (9 + 6) + (9 + 3)   // after title, after column labels
        XCTAssertEqual(out[tileX, tileY], RGB(255, 0, 0))
        XCTAssertEqual(out[tileX + 31, tileY + 31], RGB(255, 0, 0))
        XCTAssertEqual(out[tileX + 32 + 6, tileY], RGB(0, 0, 255))
        XCTAssertGreaterThan(count(out, ink, x: 0..<labelW, y: tileY..<(tileY + 32)), 20, "row label ink")
        XCTAssertGreaterThan(count(out, ink, x: tileX..<(tileX + 32), y: (tileY - 12)..<tileY), 10, "column label ink")
        XCTAssertGreaterThan(count(out, ink, x: 0..<out.width, y: 0..<15), 10, "title ink")
        // Captions: 32-px tiles hold 5 characters a line, so the second caption takes more lines.
        let below = (tileY + 32)..<out.height
        XCTAssertGreaterThan(count(out, ink, x: tileX..<(tileX + 32), y: below), 20)
        XCTAssertGreaterThan(count(out, ink, x: (tileX + 38)..<(tileX + 70), y: below), 20)
        XCTAssertEqual(out.height, tileY + 32 + 2 + BitmapFont.wrap("a blue one, which wraps", maxChars: 5).count * 9 + 6)
    }

    func testFontCoversPrintableASCIIWithDistinctGlyphs() {
        let chars = (32...126).map { Character(UnicodeScalar(UInt8($0))) }
        let glyphs = chars.map { BitmapFont.glyph($0) }
        XCTAssertEqual(Set(glyphs.map { $0.map(String.init).joined(separator: ",") }).count, 95, "every glyph differs")
        XCTAssertEqual(BitmapFont.glyph("é"), BitmapFont.glyph("?"))
        XCTAssertTrue(glyphs[0].allSatisfy { $0 == 0 }, "space is blank")
        // 'T': full top bar, then the middle column.
        XCTAssertEqual(BitmapFont.glyph("T"), [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100])
        var image = RGBImage(width: 12, height: 9, fill: RGB(255, 255, 255))
        BitmapFont.draw("T", into: &image, x: 1, y: 1, colour: RGB(0, 0, 0), scale: 1)
        XCTAssertEqual(count(image, RGB(0, 0, 0), x: 0..<12, y: 0..<9), 11)
        XCTAssertEqual(image[3, 7], RGB(0, 0, 0))
        BitmapFont.draw("WWWW", into: &image, x: 8, y: 5, colour: RGB(0, 0, 0), scale: 2)  // clipped, no crash
    }

    func testWrap() {
        XCTAssertEqual(BitmapFont.wrap("a small red circle", maxChars: 9), ["a small", "red", "circle"])
        XCTAssertEqual(BitmapFont.wrap("abcdefghij", maxChars: 4), ["abcd", "efgh", "ij"])
        XCTAssertEqual(BitmapFont.wrap("", maxChars: 4), [""])
        XCTAssertEqual(BitmapFont.wrap("x y", maxChars: 0), ["x", "y"])
    }

    func testRowsOfImagesConvenience() {
        let grid = ImageGrid(images: [red, blue, red, blue, red], captions: ["1", "2", "3", "4", "5"], columns: 2)
        XCTAssertEqual(grid.tiles.map { $0.count }, [2, 2, 1])
        XCTAssertEqual(grid.captions!.map { $0.count }, [2, 2, 1])
    }

    func testTensorQuantisationRoundsAndClamps() {
        let t = Tensor(shape: [1, 1, 2, 3], values: [-1, 1, 0, -2, 5, .nan])
        XCTAssertEqual(RGBImage(tensor: t).pixels, [0, 255, 128, 0, 255, 0])
        let image = RGBImage(width: 2, height: 1, pixels: [0, 1, 127, 128, 254, 255])
        XCTAssertEqual(RGBImage(tensor: image.tensor()), image)
    }
}
