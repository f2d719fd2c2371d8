import Foundation
import Tensors

/// Which part of an image folder a dataset serves (`HeldoutSplit` decides).
public enum ImageFolderSplit: String, Sendable {
    /// Every record (previews, exports, import validation).
    case all
    /// The records training may see.
    case train
    /// The held-out records, which training never sees.
    case heldout
}

/// A user's own data: a folder of PNGs with a `metadata.jsonl` or `metadata.csv`
/// (`ImageFolderMetadata`: Hugging Face's `imagefolder` layout, caption under `text` or
/// `caption` or a key of the user's choosing), split into training and held-out records by
/// `HeldoutSplit`.
///
/// The records of the chosen split are read, checked, centre-cropped and resized
/// (`ImageResize`) when the dataset is opened, so a bad line, a missing file or a corrupt PNG
/// fails at once — with an error naming the line and the file — not hours into a training run.
/// With `skipInvalid` such lines are skipped instead and listed in `skipped`.
///
/// The stream visits every example once per epoch in an order shuffled by the seed: example `i`
/// is item `π_e(i mod n)` of epoch `e = i / n`, with `π_e` a Fisher–Yates permutation drawn from
/// Philox stream `shuffleStream + e`.
public final class ImageFolderDataset: TextImageDataset {
    public static let metadataName = "metadata.jsonl"
    /// The held-out fraction when the metadata has no split column.
    public static let defaultHeldout = 0.05

    public let directory: URL
    public let resolution: Int
    public let seed: UInt64
    public let split: ImageFolderSplit
    /// Items of the split, in metadata order.
    public let items: [TextImageExample]
    /// The metadata records of the split's items, in the same order.
    public let records: [ImageFolderMetadata.Record]
    /// The split of the whole folder.
    public let heldoutSplit: HeldoutSplit
    /// One message per skipped line (only with `skipInvalid`).
    public let skipped: [String]
    public var count: Int? { items.count }

    static let shuffleStream: UInt64 = 0x5348_5546_0000_0000
    private let lock = NSLock()
    private var cache: (epoch: Int, order: [Int]) = (-1, [])

    /// `heldout`: the fraction held out when the metadata has no split column (the default
    /// `.all` split ignores it unless asked for a part).
    public init(directory: URL, resolution: Int, seed: UInt64 = 0, skipInvalid: Bool = false, split: ImageFolderSplit = .all,
                heldout: Double = ImageFolderDataset.defaultHeldout, captionKey: String? = nil) throws {
        guard (1...4096).contains(resolution) else {
            throw DatasetError("image folder: resolution must be in 1…4096, got \(resolution)")
        }
        self.directory = directory
        self.resolution = resolution
        self.seed = seed
        self.split = split
        let metadata = try ImageFolderMetadata(directory: directory, captionKey: captionKey, skipInvalid: skipInvalid)
        let meta = metadata.url.path
        heldoutSplit = try HeldoutSplit(metadata.records, fraction: heldout, place: meta)

        var items: [TextImageExample] = [], records: [ImageFolderMetadata.Record] = [], skipped = metadata.skipped
        for (r, held) in zip(metadata.records, heldoutSplit.heldout) {
            switch split {
            case .all: break
            case .train: if held { continue }
            case .heldout: if !held { continue }
            }
            do {
                let picture: RGBImage
                do { picture = try PNGCodec.read(directory.appendingPathComponent(r.fileName)) } catch {
                    throw DatasetError("\(meta) line \(r.line): \(error)")
                }
                items.append(TextImageExample(image: ImageResize.centreCropResize(picture, to: resolution),
                                              caption: r.caption, labels: try? Caption.parse(r.caption)))
                records.append(r)
            } catch {
                guard skipInvalid else { throw error }
                skipped.append((r.line, "\(error)"))
            }
        }
        guard !items.isEmpty else {
            let part = split == .all ? "" : " in the \(split.rawValue) split (\(heldoutSplit.source))"
            throw DatasetError("\(meta): no usable examples\(part)" + (skipped.isEmpty ? "" : " (\(skipped.count) skipped)"))
        }
        self.items = items
        self.records = records
        self.skipped = skipped.sorted { $0.line < $1.line }.map(\.message)
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
