// The attributes of a shapes-world scene, as integer classes with names.
//
// The evaluator (a classifier per attribute) trains on these, and captions are a pure function
// of them (`Caption.text`), so labels, captions and pictures never disagree.

/// One attribute a caption states. Raw values order the attributes everywhere
/// (`SceneLabels.values`, `SceneAttribute.counts`).
public enum SceneAttribute: Int, CaseIterable, CustomStringConvertible {
    case shape, colour, size, position, background

    public var description: String {
        switch self {
        case .shape: return "shape"
        case .colour: return "colour"
        case .size: return "size"
        case .position: return "position"
        case .background: return "background"
        }
    }

    /// The class names, in class-index order, as they are written in captions.
    public var classNames: [String] { Self.names[rawValue] }

    private static let names: [[String]] = allCases.map { $0.computeNames() }

    private func computeNames() -> [String] {
        switch self {
        case .shape: return ShapesWorld.shapes
        case .colour: return ShapesWorld.colours.map { $0.name }
        case .size: return ShapesWorld.sizes
        case .position: return ShapesWorld.positions.map { $0.phrase }
        case .background: return ShapesWorld.backgrounds.map { $0.name }
        }
    }

    public var classCount: Int { classNames.count }

    /// Class counts of every attribute, in `allCases` order: [5, 7, 2, 5, 3].
    public static var counts: [Int] { allCases.map { $0.classCount } }
}

/// The attributes of one scene as class indices into `SceneAttribute.classNames`.
public struct SceneLabels: Hashable, CustomStringConvertible {
    public var shape: Int
    public var colour: Int
    public var size: Int
    public var position: Int
    public var background: Int

    public init(shape: Int, colour: Int, size: Int, position: Int, background: Int) {
        self.shape = shape; self.colour = colour; self.size = size
        self.position = position; self.background = background
        for a in SceneAttribute.allCases {
            precondition((0..<a.classCount).contains(self[a]), "\(a) class \(self[a]) out of range")
        }
    }

    /// From class indices in `SceneAttribute.allCases` order.
    public init(values v: [Int]) {
        precondition(v.count == SceneAttribute.allCases.count, "SceneLabels needs \(SceneAttribute.allCases.count) values")
        self.init(shape: v[0], colour: v[1], size: v[2], position: v[3], background: v[4])
    }

    public subscript(attribute: SceneAttribute) -> Int {
        get {
            switch attribute {
            case .shape: return shape
            case .colour: return colour
            case .size: return size
            case .position: return position
            case .background: return background
            }
        }
        set {
            switch attribute {
            case .shape: shape = newValue
            case .colour: colour = newValue
            case .size: size = newValue
            case .position: position = newValue
            case .background: background = newValue
            }
        }
    }

    /// Class indices in `SceneAttribute.allCases` order.
    public var values: [Int] { SceneAttribute.allCases.map { self[$0] } }

    /// The class name of `attribute`, e.g. "red" for `.colour`.
    public func name(of attribute: SceneAttribute) -> String { attribute.classNames[self[attribute]] }

    /// The one caption the grammar gives these labels.
    public var caption: String { Caption.text(self) }

    public var description: String { caption }

    /// Every scene of the grammar (training and held-out), in lexicographic order of `values`.
    public static var all: [SceneLabels] {
        var out: [SceneLabels] = []
        let n = SceneAttribute.counts
        out.reserveCapacity(n.reduce(1, *))
        for s in 0..<n[0] { for c in 0..<n[1] { for z in 0..<n[2] { for p in 0..<n[3] { for b in 0..<n[4] {
            out.append(SceneLabels(shape: s, colour: c, size: z, position: p, background: b))
        } } } } }
        return out
    }
}
