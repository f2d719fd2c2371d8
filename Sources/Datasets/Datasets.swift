// Datasets: PNG codec, the synthetic shapes world and image-folder datasets.
