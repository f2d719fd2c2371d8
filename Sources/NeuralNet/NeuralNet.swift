// NeuralNet: ops with forward and backward passes, layers with named parameters, AdamW, EMA
// and safetensors I/O, built on Tensors.
@_exported import Tensors
