import Foundation

/// Generated pictures as files other tools read (`mscm-ctl sample --out-dir DIR`): one PNG per
/// picture, named by prompt and seed (`0003-a-teal-dotted-pattern-seed7.png`), and a
/// `metadata.jsonl` whose lines carry `file_name`, `text`, `seed` and whatever the caller adds
/// (model, sampler, steps, guidance). The folder is itself an image folder: `ImageFolderDataset`,
/// Hugging Face's `imagefolder` and FID tools read it as it is.
public enum SampleFolder {
    public struct Picture {
        public let image: RGBImage
        public let prompt: String
        /// Index of the prompt in the prompt list (keeps names unique and ordered).
        public let promptIndex: Int
        public let seed: UInt64
        public init(image: RGBImage, prompt: String, promptIndex: Int, seed: UInt64) {
            self.image = image; self.prompt = prompt; self.promptIndex = promptIndex; self.seed = seed
        }
    }

    /// `0003-a-teal-dotted-pattern-seed7.png`: index, the prompt's first words as a slug (at most
    /// 60 characters of a–z, 0–9 and '-'), seed.
    public static func fileName(_ p: Picture) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789")
        var slug = String(p.prompt.lowercased().map { allowed.contains($0) ? $0 : "-" })
        while slug.contains("--") { slug = slug.replacingOccurrences(of: "--", with: "-") }
        slug = String(slug.trimmingCharacters(in: CharacterSet(charactersIn: "-")).prefix(60))
        return String(format: "%04d", p.promptIndex) + (slug.isEmpty ? "" : "-" + slug) + "-seed\(p.seed).png"
    }

    /// Writes the pictures and `metadata.jsonl` into `directory` (created if missing; an
    /// existing `metadata.jsonl` there is an error, so two runs never mix). `extra` keys go on
    /// every metadata line.
    public static func write(_ pictures: [Picture], extra: [String: Any] = [:], to directory: URL) throws {
        let fm = FileManager.default
        let meta = directory.appendingPathComponent(ImageFolderDataset.metadataName)
        guard !fm.fileExists(atPath: meta.path) else {
            throw DatasetError("\(directory.path) already holds a \(ImageFolderDataset.metadataName); choose a new folder")
        }
        do { try fm.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw DatasetError("cannot create \(directory.path)")
        }
        var lines = ""
        for p in pictures {
            let name = fileName(p)
            try PNGCodec.write(p.image, to: directory.appendingPathComponent(name))
            var o = extra
            o["file_name"] = name; o["text"] = p.prompt; o["seed"] = p.seed
            lines += String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        // The metadata last, atomically: a folder with metadata is a complete one.
        try Data(lines.utf8).write(to: meta, options: .atomic)
    }
}
