import Datasets
import Foundation
import Models

extension TeacherTrainingConfig: RunSettings {
    /// The training split of `dataset` at the model's resolution (`folder`, when given, is
    /// where an image-folder dataset lies on this machine, e.g. an imported dataset unpacked).
    public func openDataset(folder: URL? = nil) throws -> TextImageDataset {
        let r = model.uvit.resolution
        if dataset == "shapes" && folder == nil { return try ShapesDataset(resolution: r, seed: seed) }
        return try ImageFolderDataset(directory: folder ?? URL(fileURLWithPath: dataset), resolution: r, seed: seed, split: .train,
                                      heldout: heldout ?? ImageFolderDataset.defaultHeldout, captionKey: captionKey)
    }

    /// What a fresh run trains on: the dataset's training split, the tokenizer (the shapes
    /// world's, or one learned from the training captions — held-out captions never count), and
    /// this config with the text encoder's vocabulary size set to that tokenizer's.
    public func openData(folder: URL? = nil) throws -> TeacherData {
        let data = try openDataset(folder: folder)
        guard let images = data as? ImageFolderDataset else { return TeacherData(config: self, dataset: data, tokenizer: .shapes, vocabulary: nil) }
        let (tokenizer, report) = Tokenizer.learn(from: images.items.map(\.caption), minCount: minWordCount ?? Tokenizer.defaultMinWordCount,
                                                  maxLength: model.text.maxLength)
        var c = self
        c.model.text.vocabularySize = tokenizer.vocabularySize
        return TeacherData(config: c, dataset: data, tokenizer: tokenizer, vocabulary: report)
    }
}

/// A fresh run's inputs (`TeacherTrainingConfig.openData`).
public struct TeacherData {
    /// The config to train with: the vocabulary size follows the tokenizer.
    public let config: TeacherTrainingConfig
    public let dataset: TextImageDataset
    public let tokenizer: Tokenizer
    /// For a learned vocabulary: its size and coverage of the training captions.
    public let vocabulary: VocabularyReport?

    /// Held-out records training never sees (image folders), nil for the shapes world.
    public var heldoutCount: Int? { (dataset as? ImageFolderDataset)?.heldoutSplit.heldoutCount }
}

extension TeacherTrainer {
    /// A fresh run on `data` (`TeacherTrainingConfig.openData`).
    public convenience init(_ data: TeacherData) throws {
        try self.init(config: data.config, dataset: data.dataset, tokenizer: data.tokenizer)
    }
}
