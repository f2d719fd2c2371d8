// NeuralNet: ops with forward and backward passes, layers with named parameters, AdamW, EMA
// and safetensors I/O, built on Tensors.
//
// Layers are explicit, llm.c style: `forward(x, save:)` computes the output and, when `save`
// is true, keeps what `backward` needs; `backward(dy)` returns the input gradient, adds into
// the parameters' `.grad`, and releases what the forward kept. See README "Engine".
