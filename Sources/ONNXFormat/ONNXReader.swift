internal import CONNX
internal import CProtobufC
import ModelCore

/// Reads `.onnx` files into a `Model`.
///
/// The file is memory-mapped; the wire-format pre-pass (`onnx_prepass.c`)
/// validates it and lifts every tensor payload out, protobuf-c unpacks the
/// remaining metadata, and tensors become views into the mapped file. Memory
/// therefore grows with the graph's metadata, not with its weights.
public enum ONNXReader {
    /// The most memory protobuf-c may spend on one model's metadata. Real
    /// models need a few MB to a few hundred MB; crafted files that would need
    /// more are rejected before anything is allocated.
    static let metadataBudget: UInt64 = 2 << 30

    /// Reads and validates the model at `path`; external data is resolved
    /// relative to the model's folder.
    public static func read(path: String) throws(ModelError) -> Model {
        let file = try MappedFile(path: path)
        return try read(file: file, externalDataFolder: externalDataFolder(of: path))
    }

    /// The folder against which the external data of the model at `path` is resolved.
    public static func externalDataFolder(of path: String) -> String {
        ExternalData.folder(of: path)
    }

    /// Reads a model from an already mapped file. Errors name `file.path`.
    public static func read(file: MappedFile, externalDataFolder: String) throws(ModelError) -> Model {
        do {
            return try decode(file: file, externalDataFolder: externalDataFolder)
        } catch {
            throw error.inFile(file.path)
        }
    }

    /// Reads a serialized `TensorProto` (the `input_K.pb` / `output_K.pb`
    /// files of ONNX test data). Its data stays in the mapped file.
    public static func readTensor(path: String) throws(ModelError) -> Tensor {
        try readTensor(file: try MappedFile(path: path))
    }

    /// Reads a serialized `TensorProto` from an already mapped file, through
    /// the same pre-pass as a model; external data is resolved relative to
    /// the file's folder. Errors name `file.path`.
    public static func readTensor(file: MappedFile) throws(ModelError) -> Tensor {
        try readMessage(file, root: ONNX_PREPASS_ROOT_TENSOR, unpack: { onnx__tensor_proto__unpack(nil, $0, $1) },
                        free: { onnx__tensor_proto__free_unpacked($0, nil) }) { converter, message throws(ModelError) in
            try converter.tensor(message, path: "TensorProto")
        }
    }

    /// Reads test data of a value of `type`: a serialized `SequenceProto`
    /// for a sequence, an `OptionalProto` for an optional, else a
    /// `TensorProto`. Every element passes the same checks as a tensor file.
    public static func readValue(path: String, type: ValueType?) throws(ModelError) -> StoredValue {
        let file = try MappedFile(path: path)
        switch type {
        case .sequence?:
            return try readMessage(file, root: ONNX_PREPASS_ROOT_SEQUENCE, unpack: { onnx__sequence_proto__unpack(nil, $0, $1) },
                                   free: { onnx__sequence_proto__free_unpacked($0, nil) }) { converter, message throws(ModelError) in
                try converter.sequence(message, path: "SequenceProto")
            }
        case .optional?:
            return try readMessage(file, root: ONNX_PREPASS_ROOT_OPTIONAL, unpack: { onnx__optional_proto__unpack(nil, $0, $1) },
                                   free: { onnx__optional_proto__free_unpacked($0, nil) }) { converter, message throws(ModelError) in
                try converter.optional(message, path: "OptionalProto")
            }
        default:
            return .tensor(try readTensor(file: file))
        }
    }

    /// Runs the pre-pass over a file holding one `root` message, unpacks its
    /// skeleton and converts it. Errors name `file.path`.
    private static func readMessage<Message, Result>(
        _ file: MappedFile, root: OnnxPrepassRoot,
        unpack: (Int, UnsafeMutablePointer<UInt8>?) -> UnsafeMutablePointer<Message>?,
        free: (UnsafeMutablePointer<Message>) -> Void,
        convert: (Converter, Message) throws(ModelError) -> Result
    ) throws(ModelError) -> Result {
        do throws(ModelError) {
            let bytes = file.bytes
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                throw ModelError(.malformed, "empty file, not a serialized ONNX value")
            }
            var prepass = OnnxPrepassResult()
            let status = onnx_prepass(base.assumingMemoryBound(to: UInt8.self), bytes.count, root, metadataBudget, &prepass)
            defer { onnx_prepass_free(&prepass) }
            if status != ONNX_PREPASS_OK { throw prepassError(prepass) }
            guard let message = unpack(prepass.skeleton_length, prepass.skeleton) else {
                throw ModelError(.limit, "could not unpack the value (out of memory?)")
            }
            defer { free(message) }
            let spans = UnsafeBufferPointer(start: prepass.spans, count: prepass.span_count)
            let converter = Converter(file: file, spans: spans, externalData: ExternalData(folder: externalDataFolder(of: file.path)))
            return try convert(converter, message.pointee)
        } catch {
            throw error.inFile(file.path)
        }
    }

    /// True when `bytes` start with a field that a ModelProto can start with.
    /// Used to tell formats apart and to reject foreign files early.
    public static func looksLikeONNX(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var position = 0
        var tag: UInt64 = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            guard position < bytes.count else { return false }
            let byte = bytes[position]
            position += 1
            tag |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { break }
        }
        let field = tag >> 3, wire = tag & 7
        switch field {
        case 1, 5: return wire == 0                           // ir_version, model_version
        case 2, 3, 4, 6, 7, 8, 14, 20, 25: return wire == 2    // strings and messages
        default: return false
        }
    }

    private static func decode(file: MappedFile, externalDataFolder: String) throws(ModelError) -> Model {
        let bytes = file.bytes
        if bytes.isEmpty { throw ModelError(.malformed, "empty file, not an ONNX model") }
        if !looksLikeONNX(bytes) {
            let kind = FileKind.describe(bytes) ?? "starts with bytes " + bytes.prefix(8).map { hex($0) }.joined(separator: " ")
            throw ModelError(.malformed, "not an ONNX model: the file looks like \(kind)")
        }

        var prepass = OnnxPrepassResult()
        let status = onnx_prepass(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count,
                                  ONNX_PREPASS_ROOT_MODEL, metadataBudget, &prepass)
        defer { onnx_prepass_free(&prepass) }
        if status != ONNX_PREPASS_OK { throw prepassError(prepass) }

        guard let message = onnx__model_proto__unpack(nil, prepass.skeleton_length, prepass.skeleton) else {
            // The pre-pass accepted the skeleton, so this is allocation failure.
            throw ModelError(.limit, "could not unpack the model's metadata (out of memory?)")
        }
        defer { onnx__model_proto__free_unpacked(message, nil) }

        let spans = UnsafeBufferPointer(start: prepass.spans, count: prepass.span_count)
        let converter = Converter(file: file, spans: spans, externalData: ExternalData(folder: externalDataFolder))
        var model = try converter.model(message.pointee)
        model.graph = try model.graph.validated()
        return model
    }

    private static func prepassError(_ result: OnnxPrepassResult) -> ModelError {
        let what: String
        switch result.status {
        case ONNX_PREPASS_TRUNCATED: what = "truncated"
        case ONNX_PREPASS_OVERRUN: what = "a field overruns its enclosing message"
        case ONNX_PREPASS_BAD_VARINT: what = "malformed varint"
        case ONNX_PREPASS_BAD_TAG: what = "invalid field tag"
        case ONNX_PREPASS_BAD_WIRE_TYPE: what = "invalid wire type"
        case ONNX_PREPASS_WRONG_WIRE_TYPE: what = "field encoded with the wrong wire type"
        case ONNX_PREPASS_BAD_PACKED: what = "malformed packed array"
        case ONNX_PREPASS_TOO_DEEP: what = "messages nested too deeply"
        case ONNX_PREPASS_TOO_LARGE: what = "model metadata too large to unpack"
        default: what = "out of memory while reading"
        }
        let detail = cString(result.error_detail)
        let path = cString(result.error_path)
        return ModelError(.malformed, detail.isEmpty ? what : "\(what) (\(detail))",
                          byteOffset: Int(result.error_offset),
                          location: path.isEmpty ? nil : path)
    }

    private static func cString<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

/// Test data of sequences and optionals. The element kinds are
/// `SequenceProto.DataType`'s: 1 tensor, 3 sequence, 5 optional; sparse
/// tensors (2) and maps (4) are not read.
extension Converter {
    func sequence(_ message: Onnx__SequenceProto, path: String) throws(ModelError) -> StoredValue {
        let lists = (tensors: message.n_tensor_values, sequences: message.n_sequence_values, optionals: message.n_optional_values)
        var elements: [StoredValue] = []
        switch message.elem_type {
        case 1 where lists.sequences == 0 && lists.optionals == 0:
            for i in 0..<lists.tensors {
                guard let element = message.tensor_values[i] else { continue }
                elements.append(.tensor(try tensor(element.pointee, path: "\(path).tensor_values[\(i)]")))
            }
        case 3 where lists.tensors == 0 && lists.optionals == 0:
            for i in 0..<lists.sequences {
                guard let element = message.sequence_values[i] else { continue }
                elements.append(try sequence(element.pointee, path: "\(path).sequence_values[\(i)]"))
            }
        case 5 where lists.tensors == 0 && lists.sequences == 0:
            for i in 0..<lists.optionals {
                guard let element = message.optional_values[i] else { continue }
                elements.append(try optional(element.pointee, path: "\(path).optional_values[\(i)]"))
            }
        case 0 where lists.tensors + lists.sequences + lists.optionals == 0:
            break
        case 2, 4:
            throw ModelError(.unsupported(op: nil, dtype: nil), "\(path): sequences of sparse tensors or maps are not read")
        default:
            throw ModelError(.malformed, "\(path): elem_type \(message.elem_type) does not match the elements stored")
        }
        return .sequence(elements)
    }

    func optional(_ message: Onnx__OptionalProto, path: String) throws(ModelError) -> StoredValue {
        switch message.elem_type {
        case 1: return .optional(try message.tensor_value.map { m throws(ModelError) in StoredValue.tensor(try tensor(m.pointee, path: "\(path).tensor_value")) })
        case 3: return .optional(try message.sequence_value.map { m throws(ModelError) in try sequence(m.pointee, path: "\(path).sequence_value") })
        case 5: return .optional(try message.optional_value.map { m throws(ModelError) in try optional(m.pointee, path: "\(path).optional_value") })
        case 0: return .optional(nil)
        case 2, 4: throw ModelError(.unsupported(op: nil, dtype: nil), "\(path): optional sparse tensors or maps are not read")
        default: throw ModelError(.malformed, "\(path): unknown elem_type \(message.elem_type)")
        }
    }
}
