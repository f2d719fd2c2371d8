// Models: tokenizer, text encoder, UViT and the model presets.
@_exported import NeuralNet
