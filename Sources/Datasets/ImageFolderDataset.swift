import Foundation

/// A user's own data: a folder of PNGs with a `metadata.jsonl` whose lines are
/// `{"file_name": "0001.png", "text": "a caption"}` (the layout of Hugging Face `imagefolder`
/// datasets and the common text-to-image training scripts). Other keys are ignored; blank lines
/// are allowed.
///
/// Everything is read, checked, centre-cropped and resized (`ImageResize`) when the dataset is
/// opened, so a bad line, a missing file or a corrupt PNG fails at once — with an error naming
/// the line and the file — not hours into a training run. With `skipInvalid` such lines are
/// skipped instead and listed in `skipped`.
///
/// The stream visits every example once per epoch in an order shuffled by the seed: example `i`
/// is item `π_e(i mod n)` of epoch `e = i / n`, with `π_e` a Fisher–Yates permutation drawn from
/// Philox stream `shuffleStream + e`.
public final class ImageFolderDataset: TextImageDataset {
    public static let metadataName = "metadata.jsonl"

    public let directory: URL
    public let resolution: Int
    public let seed: UInt64
    /// Items in metadata order.
    public let items: [TextImageExample]
    /// One message per skipped line (only with `skipInvalid`).
    public let skipped: [String]
    public var count: Int? { items.count }

    static let shuffleStream: UInt64 = 0x5348_5546_0000_0000
    private let lock = NSLock()
    private var cache: (epoch: Int, order: [Int]) = (-1, [])

    public init(directory: URL, resolution: Int, seed: UInt64 = 0, skipInvalid: Bool = false) throws {
        guard (1...4096).contains(resolution) else {
            throw DatasetError("image folder: resolution must be in 1…4096, got \(resolution)")
        }
        self.directory = directory
        self.resolution = resolution
        self.seed = seed
        let metaURL = directory.appendingPathComponent(Self.metadataName)
        let meta = metaURL.path
        guard FileManager.default.fileExists(atPath: meta) else {
            throw DatasetError("image folder \(directory.path): no \(Self.metadataName) (expected lines {\"file_name\": …, \"text\": …})")
        }
        guard let data = try? Data(contentsOf: metaURL) else { throw DatasetError("\(meta): cannot be read") }
        guard var text = String(data: data, encoding: .utf8) else { throw DatasetError("\(meta): not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }  // a byte-order mark some editors write

        var items: [TextImageExample] = [], skipped: [String] = []
        // "\r\n" is one Character in Swift, so split on any newline, not on "\n".
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            do {
                let (file, caption) = try Self.parseLine(line, where: "\(meta) line \(n + 1)")
                let picture: RGBImage
                do { picture = try PNGCodec.read(directory.appendingPathComponent(file)) } catch {
                    throw DatasetError("\(meta) line \(n + 1): \(error)")
                }
                items.append(TextImageExample(image: ImageResize.centreCropResize(picture, to: resolution),
                                              caption: caption, labels: try? Caption.parse(caption)))
            } catch {
                guard skipInvalid else { throw error }
                skipped.append("\(error)")
            }
        }
        guard !items.isEmpty else {
            throw DatasetError("\(meta): no usable examples" + (skipped.isEmpty ? "" : " (\(skipped.count) skipped)"))
        }
        self.items = items
        self.skipped = skipped
    }

    /// The file name and caption of one metadata line; `place` prefixes errors.
    static func parseLine(_ line: String, where place: String) throws -> (file: String, caption: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
            throw DatasetError("\(place): not valid JSON")
        }
        guard let dict = object as? [String: Any], let file = dict["file_name"] as? String, let caption = dict["text"] as? String else {
            throw DatasetError("\(place): expected an object with string fields \"file_name\" and \"text\"")
        }
        let parts = file.split(separator: "/", omittingEmptySubsequences: false)
        guard !file.isEmpty, !file.hasPrefix("/"), !parts.contains(".."), !parts.contains("") else {
            throw DatasetError("\(place): file_name '\(file)' must be a relative path inside the folder")
        }
        return (file, caption)
    }

    /// Item order of epoch `epoch`: a Fisher–Yates shuffle keyed by (seed, epoch).
    public func order(epoch: Int) -> [Int] {
        let n = items.count, rng = CounterRNG(seed: seed), stream = Self.shuffleStream &+ UInt64(epoch)
        var perm = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) {
            perm.swapAt(i, rng.integer(below: i + 1, stream: stream, index: UInt64(i)))
        }
        return perm
    }

    public func example(_ index: Int) -> TextImageExample {
        precondition(index >= 0, "example index must be non-negative, got \(index)")
        let n = items.count, epoch = index / n
        lock.lock()
        if cache.epoch != epoch { cache = (epoch, order(epoch: epoch)) }
        let item = cache.order[index % n]
        lock.unlock()
        return items[item]
    }
}
