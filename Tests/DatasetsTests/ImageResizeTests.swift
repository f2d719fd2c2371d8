import XCTest
@testable import Datasets

final class ImageResizeTests: XCTestCase {
    func image(_ w: Int, _ h: Int, _ f: (Int, Int, Int) -> UInt8) -> RGBImage {
        var p: [UInt8] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { p.append(f(x, y, c)) } } }
        return RGBImage(width: w, height: h, pixels: p)
    }

    func testSameSizeIsUnchanged() {
        let a = image(16, 16) { x, y, c in UInt8((x * 13 + y * 7 + c * 50) % 256) }
        XCTAssertEqual(ImageResize.centreCropResize(a, to: 16), a)
    }

    func testCropKeepsTheCentredSquare() {
        let wide = image(20, 10) { x, _, _ in UInt8(x) }   // column index as value
        let out = ImageResize.centreCropResize(wide, to: 10)
        XCTAssertEqual((0..<10).map { out[$0, 3].r }, (5..<15).map { UInt8($0) })
        let tall = image(6, 11) { _, y, _ in UInt8(y) }
        XCTAssertEqual((0..<6).map { ImageResize.centreCropResize(tall, to: 6)[0, $0].g }, (2..<8).map { UInt8($0) })
    }

    func testIntegerDownsamplingIsTheBlockMean() {
        // 64×48 → crop 48×48 at x = 8 → 16×16: each output pixel is the mean of a 3×3 block.
        let a = image(64, 48) { x, y, c in UInt8((x * 37 + y * 11 + c * 91) % 256) }
        let out = ImageResize.centreCropResize(a, to: 16)
        for oy in 0..<16 {
            for ox in 0..<16 {
                for c in 0..<3 {
                    var sum = 0
                    for dy in 0..<3 { for dx in 0..<3 { sum += Int(a.pixels[((oy * 3 + dy) * 64 + 8 + ox * 3 + dx) * 3 + c]) } }
                    XCTAssertEqual(Int(out.pixels[(oy * 16 + ox) * 3 + c]), Int((Double(sum) / 9).rounded()), accuracy: 1)
                }
            }
        }
    }

    func testFractionalDownsamplingPreservesTheMean() {
        let a = image(50, 50) { x, y, c in UInt8((x * 5 + y * 3 + c * 40) % 200) }
        let out = ImageResize.resample(a, width: 16, height: 16)
        func mean(_ i: RGBImage) -> Double { Double(i.pixels.reduce(0) { $0 + Int($1) }) / Double(i.pixels.count) }
        XCTAssertEqual(mean(out), mean(a), accuracy: 0.5)
        let flat = RGBImage(width: 37, height: 23, fill: RGB(12, 200, 99))
        XCTAssertEqual(ImageResize.centreCropResize(flat, to: 16), RGBImage(width: 16, height: 16, fill: RGB(12, 200, 99)))
    }

    func testUpsamplingIsBilinear() {
        // A 2×1 ramp 0 → 200 enlarged to 4: centres at −¼, ¼, ¾, 1¼ of the source → 0, 50, 150, 200.
        let ramp = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 200, 200, 200])
        XCTAssertEqual(ImageResize.resample(ramp, width: 4, height: 1).pixels.enumerated().filter { $0.offset % 3 == 0 }.map { $0.element },
                       [0, 50, 150, 200])
        let flat = RGBImage(width: 5, height: 5, fill: RGB(1, 2, 3))
        XCTAssertEqual(ImageResize.centreCropResize(flat, to: 32), RGBImage(width: 32, height: 32, fill: RGB(1, 2, 3)))
    }
}
