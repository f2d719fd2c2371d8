// Models: tokenizer, text encoder, UViT and the model presets.
