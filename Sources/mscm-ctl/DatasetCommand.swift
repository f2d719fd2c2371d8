import CommandLineKit
import Datasets
import Foundation
import JobQueue
import Jobs

// mscm-ctl dataset preview|export|prompts|import: look at, write out, list and share the training data.

/// Which flags each subcommand takes.
private let datasetSubcommands: [String: Set<String>] = [
    "preview": ["out", "count", "resolution", "seed", "heldout", "folder", "scale", "columns", "caption-key"],
    "export": ["out", "count", "resolution", "seed", "heldout"],
    "prompts": ["out"],
    "import": ["name", "caption-key", "replace"],
    "patterns": ["out", "count", "resolution", "seed", "format"],
]

let datasetCommand = Command(
    name: "dataset",
    summary: "Preview, export or list the shapes-world dataset, import an image folder for a fleet, or write a demo folder (preview | export | prompts | import | patterns).",
    usage: """
    mscm-ctl dataset preview --out FILE [--count N] [--resolution R] [--seed K] [--heldout] [--folder DIR [--caption-key K]] [--scale S] [--columns C]
           mscm-ctl dataset export --count N --out DIR [--resolution R] [--seed K] [--heldout]
           mscm-ctl dataset prompts --out DIR
           mscm-ctl dataset import DIR --name NAME [--caption-key K] [--replace]
           mscm-ctl dataset patterns --out DIR [--count N] [--resolution R] [--seed K] [--format csv|jsonl]
    """,
    flags: [.value("out", "PATH", "preview: the PNG grid to write; export, prompts: the directory to create (required)"),
            .value("count", "N", "preview: samples to show (default 24); export: examples to write (required)"),
            .value("resolution", "R", "pixels per side, designed for 16, 32 or 64 (default 32)"),
            .value("seed", "K", "stream seed (default 0)"),
            .bool("heldout", "use the held-out evaluation prompts instead of the training stream (with --folder: the folder's held-out records)"),
            .value("folder", "DIR", "preview: show an image-folder dataset (PNGs + metadata.jsonl) instead"),
            .value("scale", "S", "preview: enlarge each tile S times (default 3)"),
            .value("columns", "C", "preview: tiles per row (default 6)"),
            .value("name", "NAME", "import: the dataset artifact's name, for --dataset NAME (required)"),
            .value("caption-key", "K", "import, preview --folder: the caption field (default: text, else caption)"),
            .bool("replace", "import: point an existing name at the new content"),
            .value("format", "F", "patterns: metadata.csv (default) or metadata.jsonl")]
) { flags in
    let cmd = "mscm-ctl dataset"
    guard let sub = flags.positional.first, let names = datasetSubcommands[sub] else {
        throw UsageError("\(cmd): expected a subcommand: preview, export, prompts, import or patterns (see \(cmd) --help)")
    }
    let arguments = sub == "import" ? 2 : 1
    guard flags.positional.count <= arguments else { throw UsageError("\(cmd) \(sub): unexpected argument '\(flags.positional[arguments])'") }
    if let stray = flags.values.keys.sorted().first(where: { !names.contains($0) }) {
        throw UsageError("\(cmd) \(sub): --\(stray) does not apply to \(sub)")
    }
    if sub == "import" {
        guard flags.positional.count == 2 else { throw UsageError("\(cmd) import: give the folder, e.g. \(cmd) import my-pictures --name mine") }
        guard let name = flags.string("name") else { throw UsageError("\(cmd) import: --name is required") }
        let r = try DatasetImport.run(URL(fileURLWithPath: flags.positional[1]), name: name, captionKey: flags.string("caption-key"),
                                      replace: flags.bool("replace"), store: ArtifactStore(database()))
        let split = r.summary.heldout.map { "\($0) held out by its split column" }
            ?? "no split column: training holds out a seeded fraction (--heldout, default 0.05)"
        print("imported \(name): \(r.summary.records) pictures (\(split)), \(r.summary.bytes) bytes, sha256 \(r.info.sha256)")
        print("train on it from any worker: mscm-ctl submit train-teacher --dataset \(name)")
        return
    }
    guard let out = flags.string("out") else { throw UsageError("\(cmd) \(sub): --out is required") }
    let seed = UInt64(try flags.int("seed", default: 0, range: 0...Int.max)!)
    let split: ShapesDataset.Split = flags.bool("heldout") ? .heldout : .train

    switch sub {
    case "preview":
        var count = try flags.int("count", default: 24, range: 1...1024)!
        let resolution = try flags.int("resolution", default: 32, range: 8...512)!
        let scale = try flags.int("scale", default: 3, range: 1...16)!
        let columns = try flags.int("columns", default: 6, range: 1...64)!
        let dataset: TextImageDataset
        let title: String
        if let folder = flags.string("folder") {
            // --heldout shows the records training never sees (the split column, or the default 5 %).
            let part: ImageFolderSplit = flags.bool("heldout") ? .heldout : .all
            let d = try ImageFolderDataset(directory: URL(fileURLWithPath: folder), resolution: resolution, seed: seed, split: part,
                                           captionKey: flags.string("caption-key"))
            dataset = d
            count = min(count, d.items.count)
            title = "\(folder)\(part == .heldout ? " (held out: \(d.heldoutSplit.source))" : ""): \(d.items.count) examples at \(resolution)x\(resolution), seed \(seed)"
        } else {
            dataset = try ShapesDataset(resolution: resolution, seed: seed, split: split)
            title = "shapes world, \(split == .train ? "training stream" : "held-out prompts"), \(resolution)x\(resolution), seed \(seed), examples 0-\(count - 1)"
        }
        let examples = (0..<count).map { dataset.example($0) }
        let grid = ImageGrid(images: examples.map { $0.image }, captions: examples.map { $0.caption },
                             columns: columns, scale: scale, title: title).render()
        try PNGCodec.write(grid, to: URL(fileURLWithPath: out))
        print("wrote \(out) (\(grid.width)×\(grid.height), \(count) samples)")
    case "patterns":
        // A stand-in for a user's own folder: words the shapes world never uses.
        let count = try flags.int("count", default: 480, range: 1...1_000_000)!
        let resolution = try flags.int("resolution", default: 32, range: 8...512)!
        guard let format = PatternFolder.Format(rawValue: flags.string("format", default: "csv")) else {
            throw UsageError("\(cmd) patterns: --format must be csv or jsonl")
        }
        let dir = URL(fileURLWithPath: out)
        if FileManager.default.fileExists(atPath: dir.path), (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.isEmpty == false {
            throw UsageError("\(cmd) patterns: \(out) is not empty; choose a new folder")
        }
        try PatternFolder.write(count: count, size: resolution, seed: seed, format: format, to: dir)
        print("wrote \(count) pattern pictures (\(resolution)×\(resolution)) and metadata.\(format.rawValue) (captions under 'caption') to \(out)")
    case "export":
        guard let count = try flags.int("count", range: 1...10_000_000) else { throw UsageError("\(cmd) export: --count is required") }
        let resolution = try flags.int("resolution", default: 32, range: 8...512)!
        let dataset = try ShapesDataset(resolution: resolution, seed: seed, split: split)
        try ImageFolderExport.export(dataset, count: count, to: URL(fileURLWithPath: out))
        print("wrote \(count) examples (\(resolution)×\(resolution)) and \(ImageFolderDataset.metadataName) to \(out)")
    default:
        try PromptFiles.write(to: URL(fileURLWithPath: out))
        print("wrote \(PromptFiles.contents.keys.sorted().joined(separator: ", ")) to \(out)")
    }
}
