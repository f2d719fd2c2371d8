import Formats
import Foundation
import JobQueue
import Jobs
import Models

/// One warning line on stderr per prompt that holds words the model's vocabulary lacks (they
/// read as <unk>, so the picture cannot follow them): unknown words are never silent.
func warnUnknownWords(_ prompts: [String], tokenizer: Tokenizer, command: String) {
    for p in prompts {
        if let w = tokenizer.unknownWordsWarning(p) { FileHandle.standardError.write(Data("\(command): warning: \(w)\n".utf8)) }
    }
}

/// The same for an evaluate job about to be submitted or scheduled: its prompts against each
/// entry model's vocabulary.
func warnUnknownWords(evaluateSpec spec: JSON, db: PGConnection, command: String) {
    for w in PromptVocabularyCheck.warnings(evaluateSpec: spec, store: ArtifactStore(db)) {
        FileHandle.standardError.write(Data("\(command): warning: \(w)\n".utf8))
    }
}
