import Foundation

// Structured mutation of config JSON: one to three leaves (numbers, strings, nulls) set to values
// that break size arithmetic or types — 0, −1, 2³¹, 2⁶³−1, 1e300, a string, null, an array.
// Byte mutation rarely keeps a config parseable; this reaches every field's range check.

public let interestingJSONValues: [Any] = [0, -1, 1, 2, 3, 5, 64, 4097, 1 << 31, -(1 << 31), 1 << 40, Int.max, Int.min,
                                           0.5, -0.5, 1e300, -1e300, "x", NSNull(), [Int](), [1, 2, 3]]

extension Mutator {
    /// `json` with one to three leaves replaced by interesting values (unchanged if it does not parse).
    public mutating func mutateLeaves(_ json: String) -> String {
        guard var root = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else { return json }
        for _ in 0..<(1 + rng.below(3)) {
            let paths = jsonLeaves(root)
            guard !paths.isEmpty else { break }
            root = jsonSetting(root, rng.pick(paths)[...], rng.pick(interestingJSONValues))
        }
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.fragmentsAllowed]) else { return json }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Paths to every leaf of a JSON value (array indices as decimal strings).
func jsonLeaves(_ node: Any, _ path: [String] = []) -> [[String]] {
    if let o = node as? [String: Any] { return o.keys.sorted().flatMap { jsonLeaves(o[$0]!, path + [$0]) } }
    if let a = node as? [Any] { return a.indices.flatMap { jsonLeaves(a[$0], path + ["\($0)"]) } }
    return [path]
}

/// `node` with the value at `path` replaced.
func jsonSetting(_ node: Any, _ path: ArraySlice<String>, _ value: Any) -> Any {
    guard let key = path.first else { return value }
    if var o = node as? [String: Any] { o[key] = jsonSetting(o[key] as Any, path.dropFirst(), value); return o }
    if var a = node as? [Any], let i = Int(key), a.indices.contains(i) { a[i] = jsonSetting(a[i], path.dropFirst(), value); return a }
    return node
}
