import Foundation
import Tensors
import NeuralNet

func benchEngine() {
}
