// Evaluation: evaluator networks, Fréchet distance, CLIP score, grids and reports.
