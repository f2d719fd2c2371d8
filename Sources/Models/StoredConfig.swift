import Foundation

/// A value written into a file's metadata as JSON with sorted keys (so equal configs give
/// equal bytes).
public protocol SortedJSONEncodable: Encodable {}

extension SortedJSONEncodable {
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

/// A config stored as JSON in a file's metadata: encoded with sorted keys, decoded and
/// validated with one-line errors naming the file and the field.
public protocol StoredConfig: Codable, SortedJSONEncodable {
    /// What the error calls it: "a distillation config".
    static var storedName: String { get }
    /// Validates a decoded config, naming fields under `field`.
    func validateStored(field: String) throws
}

extension StoredConfig {
    /// Decodes and validates the config a file's metadata holds under `field`.
    public static func decodeStored(json: String, source: String, field: String) throws -> Self {
        let config: Self
        do { config = try JSONDecoder().decode(Self.self, from: Data(json.utf8)) } catch {
            throw ModelError("\(source): \(field) is not valid JSON for \(storedName) (\(decodingProblem(error)))")
        }
        do { try config.validateStored(field: field) } catch let e as ModelError { throw ModelError("\(source): \(e.description)") }
        return config
    }
}
