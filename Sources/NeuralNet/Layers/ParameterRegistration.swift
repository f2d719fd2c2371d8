import Tensors

/// A composite layer lists its `parameters` by hand (their order fixes the optimiser's and the
/// EMA's slots and the order of the tensors in every saved file). A forgotten entry would
/// leave a tensor untrained and unsaved without a sound, so this walk finds one: every
/// `Parameter` reachable from a module's stored properties — directly, through child modules,
/// arrays, optionals, dictionaries or tuples, at any depth — must be among its `parameters`.
/// Tests run it over every network the project builds.
extension Module {
    /// The reachable parameters that `parameters` leaves out, each as "path (name)", e.g.
    /// `uvit.blocks[2].mlp.fc1.weight (blocks.2.mlp.fc1.weight)`; empty when all are registered.
    public func unregisteredParameters() -> [String] {
        let registered = Set(parameters.map { ObjectIdentifier($0) })
        var missing: [String] = []
        var visited = Set<ObjectIdentifier>()

        func walk(_ value: Any, path: String) {
            if let p = value as? Parameter {
                if !registered.contains(ObjectIdentifier(p)) { missing.append("\(path) (\(p.name))") }
                return
            }
            // Leaves no parameter hides in (and long number arrays not worth a walk).
            if value is Tensor || value is TensorStorage || value is String || value is [Float] || value is [Double] || value is [Int] { return }
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .class {
                guard visited.insert(ObjectIdentifier(value as AnyObject)).inserted else { return }
            }
            var level: Mirror? = mirror
            while let m = level {
                for (i, child) in m.children.enumerated() {
                    let label: String
                    switch m.displayStyle {
                    case .collection?, .set?: label = "\(path)[\(i)]"
                    case .optional?: label = path
                    case .dictionary?: label = "\(path)[\(i)]"
                    default: label = path.isEmpty ? (child.label ?? "\(i)") : "\(path).\(child.label ?? "\(i)")"
                    }
                    walk(child.value, path: label)
                }
                level = m.superclassMirror
            }
        }
        walk(self, path: "")
        return missing
    }
}
