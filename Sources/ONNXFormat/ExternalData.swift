#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelCore

/// Resolves `data_location = EXTERNAL` tensors to regions of memory-mapped
/// files next to the model.
///
/// A location is untrusted input: absolute paths, `..` components and
/// symlinks that lead out of the model's folder are refused (the path
/// traversal class of ONNX CVE-2022-25882 and CVE-2024-27318), as is any
/// offset and length that does not lie inside the file.
final class ExternalData {
    let folder: String
    private var files: [String: MappedFile] = [:]
    private var resolvedFolder: String?

    init(folder: String) {
        self.folder = folder
    }

    /// The folder a model's external data is resolved against.
    static func folder(of modelPath: String) -> String {
        guard let slash = modelPath.lastIndex(of: "/") else { return "." }
        let folder = String(modelPath[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    /// The bytes of tensor `tensor` described by its `external_data` entries.
    func region(entries: [MetadataEntry], tensor: String) throws(ModelError) -> ByteRegion {
        var location: String?
        var offset = 0
        var length: Int?
        for entry in entries {
            switch entry.key {
            case "location": location = entry.value
            case "offset": offset = try Self.number(entry.value, key: "offset", tensor: tensor)
            case "length": length = try Self.number(entry.value, key: "length", tensor: tensor)
            default: break   // "checksum" and keys from newer versions
            }
        }
        guard let location, !location.isEmpty else {
            throw ModelError(.malformed, "tensor '\(tensor)' has external data without a location")
        }
        let file = try mappedFile(location: location, tensor: tensor)
        let available = file.count >= offset ? file.count - offset : -1
        let size = length ?? available
        guard let region = file.region(offset: offset, length: size) else {
            throw ModelError(.malformed, "external data of tensor '\(tensor)' (offset \(offset), length \(size)) lies past the end of '\(location)' (\(file.count) bytes)")
        }
        return region
    }

    private static func number(_ text: String, key: String, tensor: String) throws(ModelError) -> Int {
        guard let value = Int(text), value >= 0 else {
            throw ModelError(.malformed, "tensor '\(tensor)' has an invalid external data \(key) '\(text)'")
        }
        return value
    }

    private func mappedFile(location: String, tensor: String) throws(ModelError) -> MappedFile {
        if let file = files[location] { return file }
        let refuse = { (why: String) in
            ModelError(.malformed, "external data location '\(location)' of tensor '\(tensor)' \(why)")
        }
        if location.hasPrefix("/") || location.hasPrefix("\\") { throw refuse("is absolute; it must be relative to the model's folder") }
        if location.utf8.contains(0) { throw refuse("contains a NUL byte") }
        let components = location.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        if components.contains("..") { throw refuse("contains '..'; it must stay inside the model's folder") }

        let path = folder + "/" + location
        guard let real = Self.realPath(path) else { throw refuse("does not exist") }
        guard let base = try resolvedBase() else { throw refuse("cannot be checked: the model's folder cannot be resolved") }
        if !real.hasPrefix(base.hasSuffix("/") ? base : base + "/") {
            throw refuse("leads outside the model's folder (through a symbolic link) to '\(real)'")
        }
        let file = try MappedFile(path: path)
        files[location] = file
        return file
    }

    private func resolvedBase() throws(ModelError) -> String? {
        if resolvedFolder == nil { resolvedFolder = Self.realPath(folder) }
        return resolvedFolder
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
