import Foundation

/// Square crops and resampling for image-folder datasets.
///
/// `centreCropResize` does what common text-to-image scripts do with "resize the short side,
/// then centre-crop": it keeps the centred `s × s` square (`s` = the short side) and resamples it
/// to the model's resolution. Shrinking averages exact source areas (a box filter with fractional
/// edge weights, so no source pixel is skipped); enlarging is bilinear with pixel centres at
/// `(i + ½)`. Both are separable: rows first, then columns.
public enum ImageResize {
    /// The centred square of `image`, resampled to `size × size`. A square image already of that
    /// size is returned unchanged (bit for bit).
    public static func centreCropResize(_ image: RGBImage, to size: Int) -> RGBImage {
        precondition(size > 0 && image.width > 0 && image.height > 0, "cannot resize \(image.width)×\(image.height) to \(size)")
        let s = min(image.width, image.height)
        let cropped = crop(image, x: (image.width - s) / 2, y: (image.height - s) / 2, width: s, height: s)
        return s == size ? cropped : resample(cropped, width: size, height: size)
    }

    /// The `width × height` window of `image` whose top-left pixel is (x, y).
    public static func crop(_ image: RGBImage, x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && x + width <= image.width && y + height <= image.height, "crop outside the image")
        if x == 0 && y == 0 && width == image.width && height == image.height { return image }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for row in 0..<height {
            let src = ((y + row) * image.width + x) * 3
            out.replaceSubrange((row * width * 3)..<((row + 1) * width * 3), with: image.pixels[src..<(src + width * 3)])
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// `image` resampled to `width × height` (area average when shrinking, bilinear when enlarging,
    /// per axis).
    public static func resample(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let wx = taps(from: image.width, to: width), wy = taps(from: image.height, to: height)
        // Rows: [image.height][width][3].
        var rows = [Float](repeating: 0, count: image.height * width * 3)
        for y in 0..<image.height {
            for (ox, t) in wx.enumerated() {
                var acc: (Float, Float, Float) = (0, 0, 0)
                for (i, w) in zip(t.first..., t.weights) {
                    let s = (y * image.width + i) * 3
                    acc.0 += w * Float(image.pixels[s]); acc.1 += w * Float(image.pixels[s + 1]); acc.2 += w * Float(image.pixels[s + 2])
                }
                let d = (y * width + ox) * 3
                rows[d] = acc.0; rows[d + 1] = acc.1; rows[d + 2] = acc.2
            }
        }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for (oy, t) in wy.enumerated() {
            for x in 0..<(width * 3) {
                var acc: Float = 0
                for (i, w) in zip(t.first..., t.weights) { acc += w * rows[i * width * 3 + x] }
                out[oy * width * 3 + x] = UInt8(min(max(acc.rounded(), 0), 255))
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// For each output index along an axis of `n → m` pixels: the first source index and the
    /// weights of consecutive source pixels (summing to 1).
    static func taps(from n: Int, to m: Int) -> [(first: Int, weights: [Float])] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            if n == m { return (o, [1]) }
            if n > m {
                // Output pixel o covers source interval [o·scale, (o+1)·scale).
                let lo = Double(o) * scale, hi = Double(o + 1) * scale
                let first = Int(lo.rounded(.down)), last = min(Int(hi.rounded(.up)), n)
                let w = (first..<last).map { i in Float((min(hi, Double(i + 1)) - max(lo, Double(i))) / scale) }
                return (first, w)
            }
            // Bilinear: the output centre (o + ½) maps to source coordinate c; clamp at the edges.
            let c = (Double(o) + 0.5) * scale - 0.5
            let i0 = Int(c.rounded(.down)), f = Float(c - Double(i0))
            if i0 < 0 { return (0, [1]) }
            if i0 >= n - 1 { return (n - 1, [1]) }
            return (i0, [1 - f, f])
        }
    }
}
