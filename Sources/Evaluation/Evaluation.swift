// Evaluation: evaluator networks, Fréchet distance, CLIP score, grids and reports.
@_exported import Tensors
