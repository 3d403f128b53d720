@_exported import ModelCore
@_exported import ONNXFormat

/// The file formats `Model.load` recognises.
public enum ModelFormat: String, Sendable, Codable {
    case onnx = "ONNX"
}

/// A model together with where it came from.
public struct LoadedModel: Sendable {
    public let model: Model
    public let format: ModelFormat
    /// The path as given by the caller.
    public let path: String
    /// Size of the model file itself (external data not included).
    public let fileBytes: Int
}

extension Model {
    /// Loads a model file, telling its format apart by its first bytes, not by its extension.
    public static func load(path: String) throws(ModelError) -> LoadedModel {
        let file = try MappedFile(path: path)
        // Only ONNX exists so far; ONNXReader names foreign files ("looks like a PNG image").
        let model = try ONNXReader.read(file: file, externalDataFolder: ONNXReader.externalDataFolder(of: path))
        return LoadedModel(model: model, format: .onnx, path: path, fileBytes: file.count)
    }
}
