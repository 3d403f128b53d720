import ModelCore
import ONNXFormat

/// Reads and writes tensor files: NumPy `.npy` and `.npz`, ONNX `TensorProto` `.pb`.
///
/// Reading tells the formats apart by their first bytes, not by the file's
/// extension. Every size and offset in a file is checked before it is used,
/// and a bad file gets a one-line `ModelError` naming it and the byte offset
/// (and, in an `.npz`, the member).
///
/// NumPy files hold bool, 8- to 64-bit integers, float16/32/64 and
/// complex64/128 arrays; strings are read from `U` (UTF-32) and `S` (bytes)
/// arrays and written as `U`. Big-endian and Fortran-order arrays are read by
/// copying into little-endian C order; everything else stays a view of the
/// mapped file. Other ONNX types (bfloat16, float8, 4-bit…) need `.pb`.
public enum TensorFile {
    /// A tensor file format.
    public enum Format: Sendable, Equatable {
        /// NumPy `.npy`: one array, no name.
        case npy
        /// NumPy `.npz`: a ZIP archive of `NAME.npy` members, stored or deflated (`np.savez_compressed`).
        case npz(compressed: Bool)
        /// A serialized ONNX `TensorProto`, as in ONNX test data folders (`input_0.pb`).
        case tensorProto

        /// The format `path`'s extension names: `.npy`, `.npz` (stored) or `.pb`; `nil` for others.
        public init?(extensionOf path: String) {
            let name = path.split(separator: "/").last ?? ""
            guard let dot = name.lastIndex(of: ".") else { return nil }
            switch name[name.index(after: dot)...].lowercased() {
            case "npy": self = .npy
            case "npz": self = .npz(compressed: false)
            case "pb": self = .tensorProto
            default: return nil
            }
        }
    }

    /// Reads the tensors in the file at `path`: one from a `.npy` (named after
    /// the file, without its extension) or a `.pb` (its own name), any number
    /// from an `.npz` (named after its members, in archive order).
    public static func read(path: String) throws(ModelError) -> [Tensor] {
        let file = try MappedFile(path: path)
        do throws(ModelError) {
            let bytes = file.bytes
            if bytes.starts(with: NumpyHeader.magic) {
                return [try NumpyArray.tensor(from: ByteRegion(owner: file), name: stem(of: path))]
            }
            // A ZIP starts with a member's local header, or with the end record when it is empty.
            if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
                return try NpzArchive.read(file)
            }
            return [try readTensorProto(file)]
        } catch {
            throw error.inFile(path)
        }
    }

    /// Writes `tensors` to `path` in `format`. A `.npy` or `.pb` holds exactly
    /// one tensor; an `.npz` needs distinct names. The file is written under a
    /// temporary name and renamed into place once complete.
    public static func write(_ tensors: [Tensor], to path: String, format: Format) throws(ModelError) {
        try write(tensors, to: path, format: format, zip64Threshold: Int(UInt32.max))
    }

    /// Writes one tensor to `path` in `format`.
    public static func write(_ tensor: Tensor, to path: String, format: Format) throws(ModelError) {
        try write([tensor], to: path, format: format)
    }

    /// `write(_:to:format:)` with the size from which ZIP64 fields are used,
    /// lowered by tests to exercise ZIP64 without 4 GB files.
    static func write(_ tensors: [Tensor], to path: String, format: Format, zip64Threshold: Int) throws(ModelError) {
        do throws(ModelError) {
            if tensors.count != 1, format == .npy || format == .tensorProto {
                throw ModelError(.malformed, "\(format == .npy ? "an .npy" : "a TensorProto") file holds one tensor, not "
                                 + "\(tensors.count); write several to an .npz")
            }
            if format == .tensorProto {
                // ONNXFormat streams the message into a staged file of its own.
                return try ONNXWriter.writeTensor(tensors[0], to: path)
            }
            let output = try OutputFile(target: path)
            if case .npz(let compressed) = format {
                try NpzArchive.write(tensors, to: output, compressed: compressed, zip64Threshold: zip64Threshold)
            } else {
                let (header, data) = try NumpyArray.encode(tensors[0])
                try output.append(header)
                try data.withBytes { (bytes) throws(ModelError) in try output.append(bytes) }
            }
            try output.commit()
        } catch {
            throw error.inFile(path)
        }
    }

    /// A `.pb`; a file of another known kind is named rather than reported as bad protobuf.
    private static func readTensorProto(_ file: MappedFile) throws(ModelError) -> Tensor {
        do throws(ModelError) {
            return try ONNXReader.readTensor(file: file)
        } catch {
            guard !file.bytes.isEmpty, let kind = FileKind.describe(file.bytes) else { throw error }
            throw ModelError(.malformed, "not a tensor file (.npy, .npz or TensorProto): the file looks like \(kind)", file: file.path)
        }
    }

    /// The file name without folder and extension: `data/input_0.npy` → `input_0`.
    private static func stem(of path: String) -> String {
        let name = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }
}
