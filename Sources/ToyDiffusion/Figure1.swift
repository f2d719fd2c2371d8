import Diffusion
import Foundation
import Tensors

/// The paper's Figure 1 on the analytic 1-D teacher (what `mscm-ctl figure1` draws). A mixture of
/// two Gaussians is the data; its exact posterior mean is the teacher; 1-, 2- and 4-step MLP
/// students are distilled from it by multistep consistency distillation (docs/algorithms.md §5)
/// and sampled with Algorithm 2 (§6). Each panel draws trajectories from noise (t = 1) to data
/// (t = 0) of the same initial noises; inside a student step the path is the DDIM line the step
/// follows.
public struct Figure1 {
    public var iterations: Int
    public var fitIterations: Int
    public var trajectories: Int
    public var teacherSteps: Int
    public var seed: UInt64

    public init(iterations: Int = 3000, fitIterations: Int = 2000, trajectories: Int = 40, teacherSteps: Int = 256,
                seed: UInt64 = 1) {
        self.iterations = iterations; self.fitIterations = fitIterations; self.trajectories = trajectories
        self.teacherSteps = teacherSteps; self.seed = seed
    }

    /// Fits the students' starting MLP, distils the three students and returns the SVG; `log`
    /// gets one line per stage (and each student's W1 distance to the teacher).
    public func svg(log: (String) -> Void) throws -> String {
        let count = trajectories, seed = seed, iterations = iterations, fitIterations = fitIterations
        let teacherSteps = teacherSteps
        BLAS.threads = 1   // the matrices are tiny; threads only add hand-offs
        let schedule = CosineSchedule()
        let mixture = GaussianMixture(weights: [0.5, 0.5], means: [[-1], [1]], variances: [0.05, 0.05])
        let teacher = MixtureTeacher(conditional: mixture, schedule: schedule)

        log("fitting the MLP the students start from to the teacher's v̂ (\(fitIterations) iterations)…")
        let base = ToyVelocityNet(dimension: 1, rng: CounterRNG(seed: seed))
        try ToyDistillation.fitTeacher(base, teacher: teacher, iterations: fitIterations, seed: seed)

        let evaluation = Sampling.initialNoise(seed: seed, samples: 0..<4000, exampleShape: [1])
        let reference = Sampling.teacher(teacher.model, method: .ddim, steps: teacherSteps, from: evaluation, schedule: schedule).toArray()
        let noise = Sampling.initialNoise(seed: seed, samples: 0..<count, exampleShape: [1])
        var panels: [FigurePanel] = []
        for steps in [1, 2, 4] {
            log("distilling the \(steps)-step student (\(iterations) iterations)…")
            let student = try ToyDistillation(teacher: teacher, studentSteps: steps, seed: seed)
                .train(try base.copy(with: base.namedTensors()), iterations: iterations)
            let w1 = Wasserstein.distance1D(Sampling.student(student.model, steps: steps, from: evaluation, schedule: schedule).toArray(), reference)
            log("  W1 to the teacher over 4000 samples: \(String(format: "%.4f", w1))")
            var stepsSeen: [(Float, Tensor)] = []
            _ = Sampling.student(student.model, steps: steps, from: noise, schedule: schedule) { t, z in stepsSeen.append((t, z)) }
            panels.append(FigurePanel(title: "\(steps)-step consistency model", subtitle: String(format: "W1 to teacher %.3f", w1),
                                      paths: studentPaths(stepsSeen, schedule: schedule), marks: stepsSeen.map { ($0.0, $0.1.toArray()) }))
        }
        var teacherSeen: [(Float, Tensor)] = []
        _ = Sampling.teacher(teacher.model, method: .ddim, steps: teacherSteps, from: noise, schedule: schedule) { t, z in teacherSeen.append((t, z)) }
        panels.append(FigurePanel(title: "Diffusion teacher", subtitle: "DDIM, \(teacherSteps) steps",
                                  paths: (0..<count).map { j in teacherSeen.map { (Double($0.0), Double($0.1[j])) } }, marks: []))

        return renderFigure(panels, mixture: mixture)
    }
}

/// One panel: per trajectory a polyline of (t, z), and the sampler's step points.
struct FigurePanel {
    let title: String
    let subtitle: String
    let paths: [[(Double, Double)]]
    let marks: [(Float, [Float])]
}

/// Dense student paths: between observed z_t and z_s the step follows DDIM_{t→τ}(x̂, z_t) for
/// τ ∈ [s, t], with x̂ = invDDIM_{t→s}(z_s, z_t) recovered from the two ends (§4).
func studentPaths(_ seen: [(Float, Tensor)], schedule: CosineSchedule, points: Int = 24) -> [[(Double, Double)]] {
    let n = seen[0].1.shape[0]
    var paths = (0..<n).map { [(Double(seen[0].0), Double(seen[0].1[$0]))] }
    for k in 1..<seen.count {
        let (t, zt) = seen[k - 1], (s, zs) = seen[k]
        let ts = [Float](repeating: t, count: n)
        let x = DiffusionStep.inverseDDIM(zs: zs, zt: zt, from: ts, to: [Float](repeating: s, count: n), schedule: schedule)
        for p in 1...points {
            let tau = p == points ? s : t - (t - s) * Float(p) / Float(points)
            let z = DiffusionStep.ddim(x: x, z: zt, from: ts, to: [Float](repeating: tau, count: n), schedule: schedule)
            for j in 0..<n { paths[j].append((Double(tau), Double(z[j]))) }
        }
    }
    return paths
}

/// The SVG: one panel per model, t from 1 (left) to 0 (right), z in [−3, 3]; the noise density
/// N(0, 1) left of each panel, the data density right of it; paths coloured by their end mode.
func renderFigure(_ panels: [FigurePanel], mixture: GaussianMixture) -> String {
    let plotW = 260.0, plotH = 300.0, gap = 70.0, left = 50.0, top = 84.0, zMax = 3.0
    let width = left + Double(panels.count) * (plotW + gap), height = top + plotH + 80
    func px(_ t: Double, _ panel: Int) -> Double { left + Double(panel) * (plotW + gap) + (1 - t) * plotW }
    func py(_ z: Double) -> Double { top + (zMax - z) / (2 * zMax) * plotH }
    func f(_ x: Double) -> String { String(format: "%.2f", x) }
    let blue = "#1f77b4", orange = "#e6550d"
    var svg = """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
    <rect width="100%" height="100%" fill="white"/>
    <text x="\(f(width / 2))" y="24" font-size="17" text-anchor="middle">Multistep consistency models on a mixture of two Gaussians: sampling trajectories from noise (t = 1) to data (t = 0)</text>

    """
    // Densities on a z grid: N(0, 1) at t = 1 and the data mixture at t = 0, scaled to 28 px.
    let grid = stride(from: -zMax, through: zMax, by: 0.02).map { $0 }
    let noiseDensity = grid.map { exp(-$0 * $0 / 2) / (2 * Double.pi).squareRoot() }
    let dataDensity = grid.map { exp(mixture.marginalLogDensity([$0], alpha: 1, sigma: 0)) }
    func densityPath(_ values: [Double], x0: Double, direction: Double) -> String {
        let peak = values.max()!
        let pts = zip(grid, values).map { "\(f(x0 + direction * 28 * $1 / peak)),\(f(py($0)))" }
        return "M\(f(x0)),\(f(py(-zMax))) L" + pts.joined(separator: " L") + " L\(f(x0)),\(f(py(zMax))) Z"
    }
    for (i, panel) in panels.enumerated() {
        let x0 = px(1, i), x1 = px(0, i)
        svg += "<g>\n<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(top - 22))\" font-size=\"15\" text-anchor=\"middle\" font-weight=\"bold\">\(panel.title)</text>\n"
        svg += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(top - 6))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#555\">\(panel.subtitle)</text>\n"
        svg += "<path d=\"\(densityPath(noiseDensity, x0: x0 - 2, direction: -1))\" fill=\"#bbb\" fill-opacity=\"0.6\"/>\n"
        svg += "<path d=\"\(densityPath(dataDensity, x0: x1 + 2, direction: 1))\" fill=\"#888\" fill-opacity=\"0.6\"/>\n"
        svg += "<rect x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        for t in [1.0, 0.75, 0.5, 0.25, 0] {
            svg += "<line x1=\"\(f(px(t, i)))\" y1=\"\(f(top + plotH))\" x2=\"\(f(px(t, i)))\" y2=\"\(f(top + plotH + 5))\" stroke=\"#333\"/>"
            svg += "<text x=\"\(f(px(t, i)))\" y=\"\(f(top + plotH + 18))\" font-size=\"11\" text-anchor=\"middle\">\(t == 0 || t == 1 ? String(Int(t)) : String(t))</text>\n"
        }
        svg += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(top + plotH + 36))\" font-size=\"12\" text-anchor=\"middle\">time t</text>\n"
        for z in [-2.0, -1, 0, 1, 2] {
            svg += "<line x1=\"\(f(x0))\" y1=\"\(f(py(z)))\" x2=\"\(f(x1))\" y2=\"\(f(py(z)))\" stroke=\"#eee\"/>"
            if i == 0 { svg += "<text x=\"\(f(x0 - 34))\" y=\"\(f(py(z) + 4))\" font-size=\"11\" text-anchor=\"end\">\(Int(z))</text>" }
            svg += "\n"
        }
        for path in panel.paths {
            let end = path.last!.1
            let color = mixture.classify(Tensor(shape: [1, 1], values: [Float(end)]))[0] == 0 ? blue : orange
            let d = path.map { "\(f(px($0.0, i))),\(f(py(Swift.max(-zMax, Swift.min(zMax, $0.1)))))" }.joined(separator: " L")
            svg += "<path d=\"M\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.1\" stroke-opacity=\"0.75\"/>\n"
        }
        for (t, zs) in panel.marks {
            for z in zs where abs(Double(z)) <= zMax {
                svg += "<circle cx=\"\(f(px(Double(t), i)))\" cy=\"\(f(py(Double(z))))\" r=\"2.2\" fill=\"#222\"/>"
            }
            svg += "\n"
        }
        svg += "</g>\n"
    }
    svg += "<text x=\"\(f(width / 2))\" y=\"\(f(height - 12))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#555\">Data: ½N(−1, 0.05) + ½N(1, 0.05); teacher: its exact posterior mean; students: MLPs distilled by multistep consistency distillation. Grey: N(0, 1) (left) and the data density (right). Drawn by mscm-ctl figure1.</text>\n"
    svg += "</svg>\n"
    return svg
}
