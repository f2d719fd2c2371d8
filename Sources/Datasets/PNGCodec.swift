import CLibPNG
import Foundation

/// A PNG that cannot be read or written; the message names the file and what is wrong.
public struct PNGError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// PNG reading and writing through libpng's simplified API.
///
/// libpng reports errors by `longjmp`, which must never cross Swift frames. The simplified API
/// (`png_image_*`) catches its own `longjmp` inside C and returns 0 with a message in
/// `image.message`, so every failure here — truncation, bad CRC, not a PNG — comes back as a
/// return code and becomes a `PNGError`.
///
/// In: 8- or 16-bit gray, gray+alpha, RGB, RGBA and palette files, all converted to 8-bit sRGB.
/// Alpha is composited over white (what a viewer on a white page shows; a transparent pixel's
/// stored colour is otherwise arbitrary). Out: 8-bit RGB.
public enum PNGCodec {
    /// The largest picture accepted (pixels), so a corrupt or hostile header cannot ask for
    /// gigabytes before the data is checked.
    public static let maxPixels = 64 << 20

    /// Reads the PNG file at `url`.
    public static func read(_ url: URL) throws -> RGBImage {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw PNGError("\(url.path): \(exists ? "cannot be read" : "no such file")")
        }
        return try decode(data, name: url.path)
    }

    /// Decodes PNG bytes; `name` is used in error messages.
    public static func decode(_ data: Data, name: String = "PNG data") throws -> RGBImage {
        guard data.count >= 8 else { throw PNGError("\(name): not a PNG file (\(data.count) bytes)") }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> RGBImage in
            var image = png_image()
            image.version = png_uint_32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw PNGError("\(name): not a readable PNG file (\(message(of: &image)))")
            }
            let w = Int(image.width), h = Int(image.height)
            guard w > 0, h > 0, w * h <= maxPixels else {
                png_image_free(&image)
                throw PNGError("\(name): PNG of \(w)×\(h) pixels is larger than the \(maxPixels)-pixel limit")
            }
            // Deflate expands at most 1032-fold and a pixel takes at least one bit, so a file of
            // n bytes holds at most 8256·n pixels: a tiny file declaring a big picture is refused
            // before its buffer is allocated, not after libpng finds the data missing.
            guard w * h <= raw.count * 8256 else {
                png_image_free(&image)
                throw PNGError("\(name): PNG of \(w)×\(h) pixels cannot be held by its \(raw.count) bytes (truncated or corrupt)")
            }
            // 16-bit files without gAMA/sRGB are sRGB-encoded in practice (libpng would assume
            // linear); the flag must be set after begin_read, which clears the struct.
            image.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB)
            let hasAlpha = image.format & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
            // PNG_FORMAT_RGBA is a compound macro Swift does not import.
            image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR | (hasAlpha ? PNG_FORMAT_FLAG_ALPHA : 0))
            let channels = hasAlpha ? 4 : 3
            var buffer = [UInt8](repeating: 0, count: w * h * channels)
            let ok = buffer.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, nil, out.baseAddress, 0, nil)
            }
            guard ok != 0 else {
                let why = message(of: &image)
                png_image_free(&image)
                throw PNGError("\(name): corrupt or truncated PNG (\(why))")
            }
            if !hasAlpha { return RGBImage(width: w, height: h, pixels: buffer) }
            return RGBImage(width: w, height: h, pixels: compositeOverWhite(buffer, pixels: w * h))
        }
    }

    /// 8-bit RGBA → RGB: `c = (c·a + 255·(255 − a)) / 255`, rounded (sRGB values, as viewers do).
    static func compositeOverWhite(_ rgba: [UInt8], pixels n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            let a = Int(rgba[4 * i + 3])
            for c in 0..<3 {
                out[3 * i + c] = UInt8((Int(rgba[4 * i + c]) * a + 255 * (255 - a) + 127) / 255)
            }
        }
        return out
    }

    /// Encodes an image as an 8-bit RGB PNG.
    public static func encode(_ picture: RGBImage, name: String = "PNG data") throws -> Data {
        guard picture.width > 0, picture.height > 0 else {
            throw PNGError("\(name): cannot write an empty \(picture.width)×\(picture.height) image")
        }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(picture.width)
        image.height = png_uint_32(picture.height)
        image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR)
        return try picture.pixels.withUnsafeBytes { px -> Data in
            // First call sizes the output, second writes it.
            var size = 0
            guard png_image_write_to_memory(&image, nil, &size, 0, px.baseAddress, 0, nil) != 0 else {
                throw PNGError("\(name): cannot encode PNG (\(message(of: &image)))")
            }
            var out = Data(count: size)
            let ok = out.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&image, dst.baseAddress, &size, 0, px.baseAddress, 0, nil)
            }
            guard ok != 0 else { throw PNGError("\(name): cannot encode PNG (\(message(of: &image)))") }
            return out.prefix(size)
        }
    }

    /// Writes `picture` to `url` as an RGB PNG through a temporary file and a rename, so a failed
    /// write never leaves a half-written file behind.
    public static func write(_ picture: RGBImage, to url: URL) throws {
        let data = try encode(picture, name: url.path)
        do { try data.write(to: url, options: .atomic) } catch {
            throw PNGError("\(url.path): cannot write (\(error.localizedDescription))")
        }
    }

    static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let s = String(decoding: bytes, as: UTF8.self)
            return s.isEmpty ? "unknown libpng error" : s
        }
    }
}
