import Foundation

/// Smoothed training progress for a job row: the loss as an exponential moving average and
/// the rate over the iterations of this attempt (images/s), with the ETA that follows.
struct ProgressMeter {
    let total: Int
    let batch: Int
    let start: Int
    let began = DispatchTime.now().uptimeNanoseconds
    var smoothedLoss: Double?

    init(total: Int, batch: Int, start: Int) { self.total = total; self.batch = batch; self.start = start }

    mutating func record(iteration: Int, loss: Double) -> (loss: Double, imagesPerSecond: Double, etaSeconds: Double) {
        smoothedLoss = smoothedLoss.map { 0.9 * $0 + 0.1 * loss } ?? loss
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        let rate = Double((iteration - start) * batch) / max(seconds, 1e-9)
        let eta = Double((total - iteration) * batch) / max(rate, 1e-9)
        return (smoothedLoss!, rate, eta)
    }
}
