// The synthetic shapes world: its vocabularies, colours, layout and the held-out split.
//
// One object per scene with five bold attributes, few enough classes for a small UViT to learn
// at 16×16 and 32×32 on a CPU: 5 shapes × 7 colours × 2 sizes × 5 positions × 3 backgrounds
// = 1050 scenes. Five colour–shape pairs never appear in training (900 training scenes remain);
// their 150 scenes are the held-out set, of which `heldOutPromptScenes` (40) make
// Prompts/heldout.txt. Prompts/ is generated from this file (`mscm-ctl dataset prompts`) and a
// test keeps the two identical.

public enum ShapesWorld {
    /// A colour with the word captions use for it.
    public struct NamedColour: Hashable {
        public let name: String
        public let rgb: RGB
    }

    /// A placement: the caption phrase and the object's centre in unit coordinates
    /// (x to the right, y downwards, the picture spans 0…1).
    public struct Position: Hashable {
        public let phrase: String
        public let x: Double
        public let y: Double
    }

    public static let shapes = ["circle", "square", "triangle", "diamond", "cross"]

    /// Saturated and far apart in RGB, each readable on every background.
    public static let colours = [
        NamedColour(name: "red", rgb: RGB(220, 38, 38)),
        NamedColour(name: "orange", rgb: RGB(250, 135, 20)),
        NamedColour(name: "yellow", rgb: RGB(245, 220, 40)),
        NamedColour(name: "green", rgb: RGB(30, 170, 60)),
        NamedColour(name: "cyan", rgb: RGB(30, 205, 220)),
        NamedColour(name: "blue", rgb: RGB(40, 75, 225)),
        NamedColour(name: "magenta", rgb: RGB(210, 50, 200)),
    ]

    public static let sizes = ["small", "large"]

    /// Object radius (unit coordinates) of each size, before jitter; see `ShapesRenderer`.
    public static let sizeRadii = [0.14, 0.225]

    public static let positions = [
        Position(phrase: "in the centre", x: 0.5, y: 0.5),
        Position(phrase: "at the top left", x: 0.28, y: 0.28),
        Position(phrase: "at the top right", x: 0.72, y: 0.28),
        Position(phrase: "at the bottom left", x: 0.28, y: 0.72),
        Position(phrase: "at the bottom right", x: 0.72, y: 0.72),
    ]

    public static let backgrounds = [
        NamedColour(name: "black", rgb: RGB(16, 16, 16)),
        NamedColour(name: "grey", rgb: RGB(128, 128, 128)),
        NamedColour(name: "white", rgb: RGB(240, 240, 240)),
    ]

    /// Colour–shape pairs kept out of training: one per shape, each with its own colour, so every
    /// colour and every shape is still seen in training (with other partners).
    public static let heldOutPairs: [(colour: String, shape: String)] = [
        ("blue", "circle"), ("green", "square"), ("red", "triangle"), ("magenta", "diamond"), ("yellow", "cross"),
    ]

    /// Held-out pairs as (colour, shape) class indices.
    static let heldOutIndexPairs: Set<[Int]> = Set(heldOutPairs.map { p in
        [colours.firstIndex { $0.name == p.colour }!, shapes.firstIndex(of: p.shape)!]
    })

    /// Whether `labels` combine a colour and a shape that training never shows.
    public static func isHeldOut(_ labels: SceneLabels) -> Bool {
        heldOutIndexPairs.contains([labels.colour, labels.shape])
    }

    /// The 900 scenes training draws from, in `SceneLabels.all` order.
    public static let trainingScenes: [SceneLabels] = SceneLabels.all.filter { !isHeldOut($0) }

    /// All 150 held-out scenes, in `SceneLabels.all` order.
    public static let heldOutScenes: [SceneLabels] = SceneLabels.all.filter { isHeldOut($0) }

    /// The 40 held-out evaluation prompts (Prompts/heldout.txt): for each held-out pair, 8 scenes
    /// with distinct (size, position) and backgrounds cycling, so both sizes, all positions and all
    /// backgrounds occur with every pair.
    public static let heldOutPromptScenes: [SceneLabels] = {
        var out: [SceneLabels] = []
        for (p, pair) in heldOutPairs.enumerated() {
            let colour = colours.firstIndex { $0.name == pair.colour }!
            let shape = shapes.firstIndex(of: pair.shape)!
            for k in 0..<8 {
                // (k mod 2, (k + 2p) mod 5) are distinct for k < 10.
                out.append(SceneLabels(shape: shape, colour: colour, size: k % 2,
                                       position: (k + 2 * p) % positions.count,
                                       background: (k + p) % backgrounds.count))
            }
        }
        return out
    }()

    public static var trainingCaptions: [String] { trainingScenes.map { $0.caption } }
    public static var heldOutCaptions: [String] { heldOutPromptScenes.map { $0.caption } }

    /// Every word the grammar can produce, in order of first appearance in the caption template
    /// (`Caption.text`). The tokenizer's ids follow this order, so it is append-only.
    public static let vocabulary: [String] = {
        var words: [String] = []
        func add(_ phrase: String) {
            for w in phrase.split(separator: " ").map(String.init) where !words.contains(w) { words.append(w) }
        }
        add("a")
        sizes.forEach(add)
        colours.forEach { add($0.name) }
        shapes.forEach(add)
        positions.forEach { add($0.phrase) }
        add("on a")
        backgrounds.forEach { add($0.name) }
        add("background")
        return words
    }()
}
