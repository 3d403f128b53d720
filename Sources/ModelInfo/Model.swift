@_exported import ModelCore
@_exported import ONNXFormat
@_exported import SWMFormat
@_exported import Zoo
@_exported import TensorFiles

/// The file formats `Model.load` recognises.
public enum ModelFormat: String, Sendable, Codable {
    case onnx = "ONNX"
    /// The project's native format (docs/FORMAT.md).
    case swm = "SWM"
    /// Built in memory by `Zoo` (a `zoo:NAME` path), not read from a file.
    case zoo
}

/// A model together with where it came from.
public struct LoadedModel: Sendable {
    public let model: Model
    public let format: ModelFormat
    /// The path as given by the caller.
    public let path: String
    /// Size of the model file itself (external data not included); 0 for a zoo model.
    public let fileBytes: Int
    /// For a `.swm` file: how its tensors are stored, and its provenance.
    public let storage: SWMFile?
}

extension Model {
    /// The prefix of a path naming a zoo architecture instead of a file: `zoo:resnet50`.
    public static let zooPrefix = "zoo:"

    /// Loads a model file, telling ONNX and `.swm` apart by their first bytes,
    /// not by the extension; `zoo:NAME` builds the zoo architecture `NAME` in
    /// memory (weights are generated only if their bytes are read). With
    /// `verify`, every `.swm` tensor's checksum is checked now instead of on first use.
    public static func load(path: String, verify: Bool = false) throws(ModelError) -> LoadedModel {
        if path.hasPrefix(zooPrefix) {
            let model = try Zoo.build(String(path.dropFirst(zooPrefix.count)))
            return LoadedModel(model: model, format: .zoo, path: path, fileBytes: 0, storage: nil)
        }
        let file = try MappedFile(path: path)
        if SWMReader.looksLikeSWM(file.bytes) {
            let contents = try SWMReader.read(file: file, verify: verify)
            return LoadedModel(model: contents.model, format: .swm, path: path, fileBytes: file.count, storage: contents)
        }
        // ONNXReader names foreign files ("looks like a PNG image").
        let model = try ONNXReader.read(file: file, externalDataFolder: ONNXReader.externalDataFolder(of: path))
        return LoadedModel(model: model, format: .onnx, path: path, fileBytes: file.count, storage: nil)
    }
}
