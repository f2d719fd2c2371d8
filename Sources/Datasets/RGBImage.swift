import Foundation
import Tensors

/// An 8-bit sRGB picture, rows top to bottom, pixels interleaved R, G, B.
///
/// Every dataset image is quantised to this form before it becomes a tensor, so a synthetic
/// example and the same example written to PNG and read back are bit-identical.
public struct RGBImage: Equatable, Hashable {
    public let width: Int
    public let height: Int
    /// `width · height · 3` bytes; pixel (x, y) channel c lives at `(y · width + x) · 3 + c`.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage \(width)×\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// A picture filled with one colour.
    public init(width: Int, height: Int, fill: RGB = RGB(0, 0, 0)) {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { p[3 * i] = fill.r; p[3 * i + 1] = fill.g; p[3 * i + 2] = fill.b }
        self.init(width: width, height: height, pixels: p)
    }

    public subscript(x: Int, y: Int) -> RGB {
        get { let i = (y * width + x) * 3; return RGB(pixels[i], pixels[i + 1], pixels[i + 2]) }
        set { let i = (y * width + x) * 3; pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b }
    }

    /// Writes this image into `out[0 ..< width·height·3]` as `v / 127.5 − 1` (so 0 ↦ −1, 255 ↦ 1),
    /// the channels-last layout of one [H, W, 3] slot of a batch.
    public func write(into out: UnsafeMutablePointer<Float>) {
        pixels.withUnsafeBufferPointer { src in
            for i in 0..<src.count { out[i] = Float(src[i]) / 127.5 - 1 }
        }
    }

    /// The [H, W, 3] tensor of this image in [−1, 1].
    public func tensor() -> Tensor {
        let t = Tensor(shape: [height, width, 3])
        write(into: t.data)
        return t
    }

    /// Quantises an [H, W, 3] (or [1, H, W, 3]) tensor in [−1, 1] to 8 bits: `round((x + 1) · 127.5)`,
    /// clamped to 0…255 (model samples overshoot; NaN becomes 0).
    public init(tensor t: Tensor) {
        let shape = t.rank == 4 && t.shape[0] == 1 ? Array(t.shape.dropFirst()) : t.shape
        precondition(shape.count == 3 && shape[2] == 3, "RGBImage(tensor:) needs [H, W, 3], got \(t.shape)")
        var p = [UInt8](repeating: 0, count: t.count)
        let src = t.data
        for i in 0..<t.count {
            let v = (src[i] + 1) * 127.5
            p[i] = v >= 255 ? 255 : (v > 0 ? UInt8(v.rounded()) : 0)
        }
        self.init(width: shape[1], height: shape[0], pixels: p)
    }

    /// Every pixel repeated `factor × factor` times (nearest neighbour), to make small tiles visible.
    public func upscaled(by factor: Int) -> RGBImage {
        precondition(factor >= 1, "upscale factor must be at least 1")
        if factor == 1 { return self }
        let w = width * factor, h = height * factor
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let sy = y / factor
            for x in 0..<w {
                let s = (sy * width + x / factor) * 3, d = (y * w + x) * 3
                out[d] = pixels[s]; out[d + 1] = pixels[s + 1]; out[d + 2] = pixels[s + 2]
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}

/// One 8-bit sRGB colour.
public struct RGB: Equatable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
}
