import Datasets
import Evaluation
import Formats
import JobQueue
import Models
import NeuralNet

// Errors about an input's content — a corrupt or crafted file, a bad dataset, a caption
// outside the grammar — come back on every retry: the worker fails the job at once, naming the
// cause, instead of spending its attempts (JobHandler's contract).
extension SafeTensorsError: PermanentError {}
extension ModelError: PermanentError {}
extension ModuleLoadError: PermanentError {}
extension PNGError: PermanentError {}
extension DatasetError: PermanentError {}
extension CaptionError: PermanentError {}
extension EvaluationError: PermanentError {}
// A corrupt .npz or an unwritable report file (Formats): what EvaluationError used to say for them.
extension FileError: PermanentError {}
